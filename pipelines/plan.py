"""EncodePlan: SourceInfo + Ladder + options → what to encode (pure; no I/O).

Rules: never upscale; keep the source's display aspect (SAR and rotation applied) with even sizes;
keep the frame rate up to 60 (halve above); constant frame rate; keyframes every `gop_seconds`
exactly, closed GOPs, aligned across rungs; segments a whole number of GOPs; deinterlace interlaced
sources; tone-map HDR to SDR BT.709 for the H.264 rungs; every audio stream becomes its own AAC-LC stereo rendition,
and with ``surround`` a 5.1 or 7.1 stream also becomes an AAC-LC 5.1 rendition (`surround_rendition`).

Other codecs (`PlanOptions.codecs`, opt-in): every fitted H.264 rung gets an HEVC and/or AV1 rendition of the
same size at the ladder's bitrate factor (`pipelines.ladder`), on the same keyframe and segment grid; an HDR
master (PQ/HLG) keeps its range in those (10-bit, BT.2020) while the H.264 rungs are tone-mapped.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction

from pipelines.audiomap import channel_sources
from pipelines.codecs import DEFAULT_CODECS, HDR_TRANSFERS, pix_fmt_for, profile_for, rendition_id
from pipelines.errors import ConfigError, InputRejected
from pipelines.ladder import Ladder, Rung
from pipelines.language import language_name, normalize_language, parse_iso639_2
from pipelines.layout import stereo_rule, surround_rule
from pipelines.loudness import LoudnessPlan
from pipelines.options import PROFILES, EncoderProfile, PlanOptions
from pipelines.rendition import AudioRendition, VideoRendition
from pipelines.source import AudioStream, SourceInfo

MAX_FPS = Fraction(60)
# Common rates a VFR source is snapped to (its average picks the nearest).
_STANDARD_RATES = tuple(Fraction(n, d) for n, d in (
    (24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1), (50, 1), (60000, 1001), (60, 1)))


@dataclass(frozen=True)
class EmbeddedSubtitle:
    stream_index: int
    language: str


@dataclass(frozen=True)
class EncodePlan:
    source: SourceInfo
    video: tuple[VideoRendition, ...]
    audio: tuple[AudioRendition, ...]
    embedded_subtitles: tuple[EmbeddedSubtitle, ...]
    fps: Fraction
    gop_seconds: int
    gop_frames: int
    segment_seconds: int
    deinterlace: bool
    tonemap: bool
    encoder: EncoderProfile
    ladder: str = "default"
    notes: tuple[str, ...] = field(default=())
    # The preset, and once measured (pipelines.loudness_measure.measure_plan) each source stream's loudness
    loudness: LoudnessPlan = LoudnessPlan()
    codecs: tuple[str, ...] = DEFAULT_CODECS  # pipelines.codecs: the codecs of `video`, in listing order
    # The rungs carry the master's A/53 caption data in SEI (libx264 -a53cc 1): only when asked for and every
    # picture is kept (608 sends two bytes a field per picture: a changed frame rate would garble them).
    a53cc: bool = False

    @property
    def duration(self) -> float:
        return self.source.duration

    @property
    def title_frames(self) -> int:
        """Frames of the published picture: the source picture's end on the output timeline
        (`SourceInfo.media_duration`) on the output frame grid."""
        # as the fps filter ends the picture: at the source's end on the output grid, half a slot rounded up
        # (AV_ROUND_NEAR_INF; a VFR master ending 35.98 s into 25 fps makes 900 frames, not 899)
        return max(1, _round_half_up(_exact(self.source.media_duration) * self.fps))

    @property
    def title_duration(self) -> Fraction:
        """The title's duration in seconds, exact: the picture's. Every track starts at 0 and ends here (audio
        within one of its frames); HLS playlists and the MPD state it."""
        return self.title_frames / self.fps

    @property
    def picture_shift(self) -> Fraction:
        """Seconds the published picture is moved against the master's by being put on the output frame grid.

        The fps filter places the source frame at offset t on output frame round(t * fps) (half away from
        zero: ffmpeg's AV_ROUND_NEAR_INF), so a picture whose first frame is not on the grid from the
        container's first timestamp (an MPEG-TS video starting 21 ms after its AAC priming frame) moves by up to
        half a frame; the audio is moved by the same amount so the A/V offset stays the source's.
        """
        start = _exact(self.source.offset(self.source.video.start_time))
        return _round_half_up(start * self.fps) / self.fps - start

    def title_samples(self, rendition: AudioRendition) -> int:
        """The title's duration in samples of `rendition` (rounded to the nearest sample)."""
        return round(self.title_duration * rendition.sample_rate)


def _exact(seconds: float) -> Fraction:
    """A probed time (ffprobe prints µs) as the exact decimal it was: 35.98, not 35.97999999999999687361196."""
    return Fraction(seconds).limit_denominator(1_000_000)


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def plan_encode(source: SourceInfo, ladder: Ladder, options: PlanOptions = PlanOptions()) -> EncodePlan:
    video = source.video
    fps, fps_note = output_fps(video.fps, video.avg_fps, vfr=video.vfr)
    notes = [n for n in (fps_note,) if n]
    if video.interlaced:
        notes.append(f"deinterlaced ({video.field_order})")
    if video.hdr:
        notes.append(f"tone-mapped {video.color_transfer} HDR to SDR BT.709"
                     + (" for the H.264 rungs" if len(options.codecs) > 1 else ""))
    a53cc = options.captions.in_band and not fps_note
    if options.captions.in_band and fps_note:
        notes.append("in-band captions not kept: the frame rate changes (WebVTT captions are unaffected)")
    display_w, display_h = video.display_size
    fitted = fit_ladder(ladder.rungs, display_w, display_h)
    extra = codec_renditions(fitted, ladder, options.codecs, HDR_TRANSFERS.get(video.color_transfer, "SDR"))
    if extra and video.hdr:
        others = " and ".join(c.upper() for c in options.codecs if c != "h264")
        notes.append(f"{others} rungs keep {HDR_TRANSFERS[video.color_transfer]} HDR (10-bit, BT.2020)")
    audio = _audio(source, options)
    if options.surround:
        surround, why = surround_renditions(source, audio)
        audio += surround
        notes += why
    return EncodePlan(
        source=source,
        video=fitted + extra,
        codecs=options.codecs,
        audio=audio,
        embedded_subtitles=tuple(
            EmbeddedSubtitle(s.index, _language(s.language)) for s in source.text_subtitles),
        fps=fps,
        gop_seconds=options.gop_seconds,
        gop_frames=math.ceil(fps * options.gop_seconds),
        segment_seconds=options.segment_seconds,
        deinterlace=video.interlaced,
        tonemap=video.hdr,
        encoder=PROFILES[options.profile],
        ladder=ladder.name,
        notes=tuple(notes),
        loudness=LoudnessPlan(preset=options.loudness),
        a53cc=a53cc,
    )


def output_fps(fps: Fraction, avg: Fraction, *, vfr: bool) -> tuple[Fraction, str]:
    """The constant output rate: the source's, a standard rate for VFR, halved while above 60."""
    rate = fps if fps > 0 else avg
    note = ""
    if vfr or rate <= 0 or rate > 240:
        base = avg if 0 < avg <= 240 else Fraction(25)
        rate = min(_STANDARD_RATES, key=lambda r: abs(r - base))
        note = f"variable frame rate (average {float(base):.3f}) made constant at {float(rate):.3f} fps"
    while rate > MAX_FPS:
        rate /= 2
        note = f"frame rate halved to {float(rate):.3f} fps (players cap at 60)"
    return rate, note


def fit_ladder(rungs: tuple[Rung, ...], display_w: int, display_h: int) -> tuple[VideoRendition, ...]:
    """Fit each rung's box to the source aspect; drop rungs that would upscale.

    A portrait source uses the box turned 90°. If even the smallest rung would upscale, the source gets
    one rendition at its own (even) size with the smallest rung's bitrate scaled by area.
    """
    portrait = display_h > display_w
    fitted: list[VideoRendition] = []
    for rung in rungs:
        box_w, box_h = (rung.height, rung.width) if portrait else (rung.width, rung.height)
        scale = min(box_w / display_w, box_h / display_h)
        if scale > 1:
            continue  # the rung is bigger than the source: never upscale
        fitted.append(_rendition(rung, even(display_w * scale), even(display_h * scale), box_w * box_h))
    if not fitted:
        rung = rungs[0]
        fitted.append(_rendition(rung, even(display_w), even(display_h), rung.width * rung.height))
    # Two rungs that fit to the same size (e.g. an ultra-wide source) would waste bits: keep the first.
    unique: dict[tuple[int, int], VideoRendition] = {}
    for r in fitted:
        unique.setdefault((r.width, r.height), r)
    return tuple(unique.values())


def codec_renditions(fitted: tuple[VideoRendition, ...], ladder: Ladder, codecs: tuple[str, ...],
                     dynamic_range: str) -> tuple[VideoRendition, ...]:
    """Every fitted H.264 rung again in each other codec of `codecs` (same size, the ladder's bitrate factor,
    maxrate/bufsize kept in the same proportion), grouped by codec; `dynamic_range` is the master's (SDR, PQ,
    HLG): those rungs keep it, in 10 bits when HDR. ConfigError when the ladder has no factor for a codec."""
    out: list[VideoRendition] = []
    for codec in codecs:
        if codec == "h264":
            continue
        factor = ladder.factor(codec)
        for rung in fitted:
            bitrate = round(rung.bitrate * factor / 1000) * 1000
            out.append(VideoRendition(
                id=rendition_id(rung.id, codec), width=rung.width, height=rung.height, bitrate=bitrate,
                maxrate=round(bitrate * 1.5), bufsize=2 * bitrate,
                profile=profile_for(codec, dynamic_range, rung.profile), codec=codec, dynamic_range=dynamic_range,
                pix_fmt=pix_fmt_for(codec, dynamic_range), rung=rung.id))
    return tuple(out)


def even(value: float) -> int:
    """Nearest even integer ≥ 2 (H.264 4:2:0 needs even sizes)."""
    return max(2, round(value / 2) * 2)


def _rendition(rung: Rung, width: int, height: int, box_area: int) -> VideoRendition:
    # Fewer pixels than the box (other aspect, small source) need fewer bits; never below half.
    ratio = min(1.0, max(0.5, width * height / box_area))
    bitrate = round(rung.bitrate * ratio / 1000) * 1000
    maxrate = round(bitrate * 1.5)
    return VideoRendition(id=rung.id, width=width, height=height, bitrate=bitrate, maxrate=maxrate,
                          bufsize=2 * bitrate, profile=rung.profile)


def _audio(source: SourceInfo, options: PlanOptions) -> tuple[AudioRendition, ...]:
    if len(options.audio_languages) > len(source.audio):
        raise ConfigError(
            f"{len(options.audio_languages)} audio languages given but the source has {len(source.audio)} "
            "audio stream(s)", hint="give one language per audio stream, in stream order")
    if options.audio_map:
        return _mapped_audio(source, options)
    pair = broadcast_pair(source.audio, options.audio_languages)
    if pair is not None:
        return (pair_rendition(pair, source.audio, options),)
    renditions: list[AudioRendition] = []
    used: dict[str, int] = {}
    names: dict[str, int] = {}
    for position, stream in enumerate(source.audio):
        override = options.audio_languages[position] if position < len(options.audio_languages) else None
        language = normalize_language(override, source="--audio-language") if override else _language(
            stream.language)
        used[language] = used.get(language, 0) + 1
        rid = language if used[language] == 1 else f"{language}-{used[language]}"
        name = stream.title.strip()[:64] or language_name(language)
        # NAME must differ within a group (RFC 8216 §4.3.4.1.1): a repeated one gets its ordinal
        names[name.casefold()] = names.get(name.casefold(), 0) + 1
        if names[name.casefold()] > 1:
            name = f"{name} {names[name.casefold()]}"
        rule = stereo_rule(stream.channels, stream.channel_layout)
        renditions.append(AudioRendition(id=rid, stream_index=stream.index, language=language, name=name,
                                         bitrate=PROFILES[options.profile].audio_bitrate,
                                         default=position == 0, source_layout=rule.layout,
                                         layout_rule=rule.rule, downmix=rule.pan))
    return tuple(renditions)


# AAC-LC 5.1 at 384 kb/s: 64 kb/s per full-range channel, as the 128 kb/s stereo rendition, the LFE free (Apple's HLS
# authoring spec lists AAC-LC among the multichannel codecs; 5.1 AAC-LC plays in Chromium's MSE, E-AC-3 does not)
SURROUND_BITRATE = 384_000
SURROUND_SUFFIX = "51"  # rendition id of a 5.1 rendition: the stereo rendition's + "-51" (no dots: QC check names)


def surround_renditions(source: SourceInfo, stereo: tuple[AudioRendition, ...]
                        ) -> tuple[tuple[AudioRendition, ...], list[str]]:
    """The opt-in 5.1 renditions: one for each stereo rendition made from one whole 5.1/7.1 stream (not a
    broadcast pair, not an --audio-map pick), with the reason in a note for every one that gets none.

    Apple's HLS authoring spec: multichannel audio in its own audio group, the stereo group always present;
    the group and the variants are `pipelines.hls`'s. Its NAME is the stereo one's with " (5.1)"."""
    streams = {a.index: a for a in source.audio}
    made: list[AudioRendition] = []
    notes: list[str] = []
    for rendition in stereo:
        stream = streams.get(rendition.stream_index)
        if stream is None or rendition.pair_index is not None or rendition.channel_sources:
            notes.append(f"no 5.1 rendition of {rendition.id}: it is made from picked mono channels "
                         f"({rendition.source_layout})")
            continue
        rule, why = surround_rule(stream.channels, stream.channel_layout)
        if rule is None:
            notes.append(f"no 5.1 rendition of {rendition.id} (stream {stream.index}): {why}")
            continue
        made.append(dataclasses.replace(
            rendition, id=f"{rendition.id}-{SURROUND_SUFFIX}", name=f"{rendition.name} (5.1)",
            bitrate=SURROUND_BITRATE, channels=6, default=rendition.default, source_layout=rule.layout,
            layout_rule=rule.rule, downmix=rule.pan, surround_of=rendition.id))
    return tuple(made), notes


ROLE_NAMES = {"description": "audio description", "commentary": "commentary"}


def _mapped_audio(source: SourceInfo, options: PlanOptions) -> tuple[AudioRendition, ...]:
    """One rendition per --audio-map entry; ids and NAMEs unique (language + role, then an ordinal)."""
    if options.audio_languages:
        raise ConfigError("--audio-language and --audio-map both given",
                          hint="give each rendition's language in its --audio-map entry")
    layout = tuple((a.index, a.channels) for a in source.audio)
    renditions: list[AudioRendition] = []
    used: dict[str, int] = {}
    names: dict[str, int] = {}
    for position, entry in enumerate(options.audio_map):
        sources = channel_sources(entry, layout)
        base = entry.language if entry.role == "main" else f"{entry.language}-{entry.role}"
        used[base] = used.get(base, 0) + 1
        rid = base if used[base] == 1 else f"{base}-{used[base]}"
        role_name = ROLE_NAMES.get(entry.role)
        name = entry.name or (f"{language_name(entry.language)} ({role_name})" if role_name
                              else language_name(entry.language))
        names[name.casefold()] = names.get(name.casefold(), 0) + 1
        if names[name.casefold()] > 1:
            name = f"{name} {names[name.casefold()]}"
        where = " + ".join(f"stream {index} channel {channel + 1}" for index, channel in sources)
        renditions.append(AudioRendition(
            id=rid, stream_index=sources[0][0], language=entry.language, name=name,
            bitrate=PROFILES[options.profile].audio_bitrate, default=position == 0, role=entry.role,
            channel_sources=sources, source_layout=f"channels {'+'.join(map(str, entry.channels))}",
            layout_rule=f"--audio-map {entry}: {where} → " + ("left, right" if len(sources) == 2 else "both sides")))
    return tuple(renditions)


def broadcast_pair(streams: tuple[AudioStream, ...], languages: tuple[str, ...]) -> tuple[int, int] | None:
    """Positions of the stereo programme in a broadcast master's N mono tracks, or None.

    The convention (EBU R 123 and the usual MXF/IMF track allocation): N untagged mono tracks are channels, not
    programmes; tracks 1+2 carry the stereo programme (left, right), the rest M&E, commentary or spares. Applied
    only when every audio stream is mono with no language and no title, and no --audio-language was given (each
    of those says the tracks are programmes of their own).
    """
    if len(streams) < 2 or languages:
        return None
    if all(s.channels == 1 and not s.language and not s.title.strip() for s in streams):
        return 0, 1
    return None


def pair_rendition(pair: tuple[int, int], streams: tuple[AudioStream, ...], options: PlanOptions) -> AudioRendition:
    left, right = (streams[i] for i in pair)
    rest = len(streams) - 2
    unpublished = f"; tracks 3–{len(streams)} not published" if rest > 1 else "; track 3 not published" if rest else ""
    return AudioRendition(
        id="und", stream_index=left.index, pair_index=right.index, language="und", name=language_name("und"),
        bitrate=PROFILES[options.profile].audio_bitrate, default=True, source_layout=f"{len(streams)} mono tracks",
        layout_rule=f"tracks 1+2 → stereo programme (left, right: the broadcast pair convention){unpublished}")


def _language(tag: str | None) -> str:
    """A container's language tag (ISO 639-2 or BCP-47) → BCP-47; unknown or invalid → "und"."""
    if not tag:
        return "und"
    parsed = parse_iso639_2(tag) if len(tag) == 3 else tag
    if parsed is None:
        return "und"
    try:
        return normalize_language(parsed)
    except InputRejected:  # a bad tag in a container is not worth rejecting the master for
        return "und"

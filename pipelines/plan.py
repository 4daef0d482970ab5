"""EncodePlan: SourceInfo + Ladder + options → what to encode (pure; no I/O).

Rules: never upscale; keep the source's display aspect (SAR and rotation applied) with even sizes;
keep the frame rate up to 60 (halve above); constant frame rate; keyframes every `gop_seconds`
exactly, closed GOPs, aligned across rungs; segments a whole number of GOPs; deinterlace interlaced
sources; tone-map HDR to SDR BT.709; every audio stream becomes its own AAC-LC stereo rendition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from pipelines.errors import ConfigError, InputRejected
from pipelines.ladder import Ladder, Rung
from pipelines.language import language_name, normalize_language, parse_iso639_2
from pipelines.loudness import DEFAULT_PRESET, LoudnessPlan, target_for
from pipelines.source import SourceInfo

MAX_FPS = Fraction(60)
# Common rates a VFR source is snapped to (its average picks the nearest).
_STANDARD_RATES = tuple(Fraction(n, d) for n, d in (
    (24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1), (50, 1), (60000, 1001), (60, 1)))


@dataclass(frozen=True)
class EncoderProfile:
    name: str
    preset: str  # x264 preset
    audio_bitrate: int = 128_000


PROFILES = {
    "fast": EncoderProfile("fast", preset="veryfast"),  # demos, tests, previews
    "quality": EncoderProfile("quality", preset="slow"),  # production
    # superfast, not ultrafast: ultrafast drops CABAC and B-frames, so x264 can only make Constrained Baseline
    "draft": EncoderProfile("draft", preset="superfast", audio_bitrate=96_000),  # CI and quick looks
}


@dataclass(frozen=True)
class PlanOptions:
    segment_seconds: int = 6
    gop_seconds: int = 2
    profile: str = "fast"
    # Language per audio stream, in source order; overrides the container's tags (BCP-47 or ISO 639-2).
    audio_languages: tuple[str, ...] = ()
    loudness: str = DEFAULT_PRESET  # pipelines.loudness.PRESETS

    def __post_init__(self) -> None:
        target_for(self.loudness)  # ConfigError when unknown
        if self.gop_seconds < 1 or self.gop_seconds > 10:
            raise ConfigError(f"gop_seconds={self.gop_seconds} is out of range", hint="use 1 to 10 seconds")
        if self.segment_seconds < self.gop_seconds or self.segment_seconds % self.gop_seconds:
            raise ConfigError(
                f"segment_seconds={self.segment_seconds} is not a multiple of the {self.gop_seconds} s GOP",
                hint=f"use a multiple of {self.gop_seconds} (e.g. 2, 4, 6)")
        if self.segment_seconds > 30:
            raise ConfigError(f"segment_seconds={self.segment_seconds} is too long", hint="use at most 30")
        if self.profile not in PROFILES:
            raise ConfigError(f"unknown profile {self.profile!r}", hint=f"choose one of {', '.join(PROFILES)}")


@dataclass(frozen=True)
class VideoRendition:
    id: str
    width: int
    height: int
    bitrate: int
    maxrate: int
    bufsize: int
    profile: str


@dataclass(frozen=True)
class AudioRendition:
    id: str  # path-safe, unique: the language tag, suffixed when two streams share one
    stream_index: int  # absolute index in the source
    language: str  # BCP-47 ("und" when unknown)
    name: str
    bitrate: int
    channels: int = 2
    sample_rate: int = 48000
    default: bool = False


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

    @property
    def duration(self) -> float:
        return self.source.duration


def plan_encode(source: SourceInfo, ladder: Ladder, options: PlanOptions = PlanOptions()) -> EncodePlan:
    video = source.video
    fps, fps_note = output_fps(video.fps, video.avg_fps, vfr=video.vfr)
    notes = [n for n in (fps_note,) if n]
    if video.interlaced:
        notes.append(f"deinterlaced ({video.field_order})")
    if video.hdr:
        notes.append(f"tone-mapped {video.color_transfer} HDR to SDR BT.709")
    display_w, display_h = video.display_size
    return EncodePlan(
        source=source,
        video=fit_ladder(ladder.rungs, display_w, display_h),
        audio=_audio(source, options),
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
    renditions: list[AudioRendition] = []
    used: dict[str, int] = {}
    for position, stream in enumerate(source.audio):
        override = options.audio_languages[position] if position < len(options.audio_languages) else None
        language = normalize_language(override, source="--audio-language") if override else _language(
            stream.language)
        used[language] = used.get(language, 0) + 1
        rid = language if used[language] == 1 else f"{language}-{used[language]}"
        name = stream.title.strip()[:64] or language_name(language)
        renditions.append(AudioRendition(id=rid, stream_index=stream.index, language=language, name=name,
                                         bitrate=PROFILES[options.profile].audio_bitrate,
                                         default=position == 0))
    return tuple(renditions)


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

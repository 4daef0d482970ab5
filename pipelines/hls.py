"""HLS playlists (RFC 8216, Apple's HLS authoring spec) rendered from a measured `Presentation`.

``render_*`` are pure (model in, text out); ``write_hls`` is the one effect. Every number comes from
the measured tracks: BANDWIDTH is the peak segment bit rate of the video plus the highest audio peak,
AVERAGE-BANDWIDTH the same with averages, CODECS the strings read from the init segments.

EXT-X-VERSION is the lowest each playlist's tags need (RFC 8216 §7): fMP4 media playlists (EXT-X-MAP
without I-FRAMES-ONLY) 6; I-frame playlists (EXT-X-BYTERANGE, I-FRAMES-ONLY, EXT-X-MAP) 5; WebVTT
playlists (decimal EXTINF) 3. The master needs no version of its own; it declares the highest among
the playlists it lists (6), so a client too old for the media stops at the first file it reads.

Variants are listed by BANDWIDTH ascending: the first (the lowest rung) is where players such as
hls.js start, which favours a fast start; they climb as soon as they have measured the network.
With HEVC/AV1 rungs (opt-in), the H.264 variants come first, then HEVC's, then AV1's, each by BANDWIDTH: the
first variant is H.264, which every client plays (Apple's HLS authoring spec keeps the H.264 ladder for older
devices and lists HEVC as extra variants with `hvc1` CODECS); a client picks among the codecs it decodes.
Every variant then carries VIDEO-RANGE (SDR, or PQ/HLG for an HDR master's HEVC/AV1 rungs; RFC 8216bis
§4.4.6.2, required by Apple for HDR); an H.264-only master is written as before, without it (SDR is the default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from pipelines.codecs import CODECS
from pipelines.presentation import AudioTrack, Presentation, Segment, Storyboard, SubtitleTrack, Track, VideoTrack
from pipelines.textfile import write_text_atomic

MASTER = "master.m3u8"
MEDIA = "index.m3u8"
IFRAMES = "iframes.m3u8"
AUDIO_GROUP = "audio"
SURROUND_GROUP = "audio-51"  # the opt-in 5.1 renditions (pipelines.plan.surround_renditions)
SUBTITLE_GROUP = "subs"
CAPTION_GROUP = "cc"
# Apple HLS authoring spec (subtitles for the deaf and hard of hearing): both characteristics.
SDH_CHARACTERISTICS = ("public.accessibility.transcribes-spoken-dialog,"
                       "public.accessibility.describes-music-and-sound")
MEDIA_VERSION, IFRAME_VERSION, SUBTITLE_VERSION = 6, 5, 3
DESCRIBES_VIDEO = "public.accessibility.describes-video"  # audio description (Apple HLS authoring spec)


def _seconds(value: float) -> str:
    # Six decimals: EXTINF sums then drift < 1 µs per segment from the media timeline (3 would allow 0.5 ms).
    return f"{value:.6f}"


def _target(durations: Iterable[str]) -> int:
    """EXT-X-TARGETDURATION: the longest EXTINF *as written*, rounded half up (RFC 8216 §4.3.3.1)."""
    return max((math.floor(float(d) + 0.5) for d in durations), default=1) or 1


def _quoted(value: str) -> str:
    # A quoted-string may hold neither '"' nor CR/LF (RFC 8216 §4.2); names come from sidecars and config.
    return '"' + value.replace('"', "'").replace("\r", " ").replace("\n", " ") + '"'


def _attributes(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{key}={value}" for key, value in pairs)


def _yes(flag: bool) -> str:
    return "YES" if flag else "NO"


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _header(version: int, target: int, *, init: str | None = None, iframes: bool = False) -> list[str]:
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{version}", f"#EXT-X-TARGETDURATION:{target}",
             "#EXT-X-PLAYLIST-TYPE:VOD"]
    if iframes:
        lines.append("#EXT-X-I-FRAMES-ONLY")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    if init is not None:
        lines.append(f"#EXT-X-MAP:URI={_quoted(init)}")
    return lines


def _segments_playlist(segments: tuple[Segment, ...], version: int, target: int, init: str | None) -> str:
    durations = [_seconds(s.duration) for s in segments]
    lines = _header(version, max(target, _target(durations)), init=init)
    for segment, duration in zip(segments, durations, strict=True):
        lines += [f"#EXTINF:{duration},", segment.uri]
    return _text([*lines, "#EXT-X-ENDLIST"])


def render_media(track: Track) -> str:
    """The media playlist of one CMAF rendition (video or audio)."""
    return _segments_playlist(track.segments, MEDIA_VERSION, 1, track.init)


def render_subtitle_media(track: SubtitleTrack, target: int) -> str:
    """A WebVTT media playlist; ``target`` is the video's target duration (raised for a longer segment)."""
    return _segments_playlist(track.segments, SUBTITLE_VERSION, target, None)


def _iframe_entries(track: VideoTrack) -> list[tuple[float, Segment]]:
    """(duration until the next listed I-frame, segment whose first frame it is).

    A segment that does not start with a keyframe has no I-frame to list: its time is added to the entry
    before it. (QC rejects such output anyway; the first segment is always listed so the timeline holds.)
    """
    entries: list[tuple[float, Segment]] = []
    for segment in track.segments:
        if (segment.starts_with_keyframe and segment.iframe_length > 0) or not entries:
            entries.append((segment.duration, segment))
        else:
            duration, first = entries[-1]
            entries[-1] = (duration + segment.duration, first)
    return entries


def render_iframes(track: VideoTrack) -> str:
    """The I-frame playlist: one byte range (moof + first frame) per segment, same files as the media."""
    entries = _iframe_entries(track)
    durations = [_seconds(duration) for duration, _ in entries]
    lines = _header(IFRAME_VERSION, _target(durations), init=track.init, iframes=True)
    for (_, segment), duration in zip(entries, durations, strict=True):
        lines += [f"#EXTINF:{duration},", f"#EXT-X-BYTERANGE:{segment.iframe_length}@{segment.iframe_offset}",
                  segment.uri]
    return _text([*lines, "#EXT-X-ENDLIST"])


def _iframe_bandwidth(track: VideoTrack) -> tuple[int, int]:
    """(peak, average) bits/s of the I-frame byte ranges over their EXTINF durations."""
    entries = [(d, s.iframe_length) for d, s in _iframe_entries(track) if d > 0]
    peak = max((size * 8 / d for d, size in entries), default=0.0)
    total = sum(d for d, _ in entries)
    return round(peak), round(sum(size for _, size in entries) * 8 / total) if total else 0


def _default_index(flags: list[bool], *, required: bool) -> int | None:
    """Index of the first track marked default; else the first track if one is required."""
    return next((i for i, flag in enumerate(flags) if flag), 0 if required and flags else None)


def variant_order(videos: Iterable[VideoTrack]) -> list[VideoTrack]:
    """The listing order of video variants: by codec (H.264 first: `pipelines.codecs.CODECS`), then by peak rate."""
    return sorted(videos, key=lambda v: (CODECS.index(v.codec) if v.codec in CODECS else len(CODECS),
                                         v.peak_bitrate))


def _video_range(p: Presentation) -> bool:
    """Whether variants declare VIDEO-RANGE: when any rendition is not H.264 SDR (an opt-in codec)."""
    return any(v.codec != "h264" or v.video_range != "SDR" for v in p.video)
def audio_groups(p: Presentation) -> tuple[tuple[str, tuple[tuple[AudioTrack, AudioTrack], ...]], ...]:
    """The audio groups of the master playlist: (GROUP-ID, members), each member (the rendition whose attributes
    it carries, the rendition it plays).

    - AUDIO_GROUP ("audio"): every stereo rendition, always (Apple HLS authoring spec: a stereo AAC group for
      compatibility);
    - SURROUND_GROUP ("audio-51"), only when a 5.1 rendition was made: per stereo rendition its 5.1 sibling, or the
      stereo rendition itself when its stream has none. RFC 8216 §4.3.4.1.1: groups of the same TYPE have the same
      set of members, corresponding members identical in every attribute but URI and CHANNELS; so a 5.1 member
      carries its stereo sibling's NAME, LANGUAGE, DEFAULT and CHARACTERISTICS.
    """
    stereo = tuple(a for a in p.audio if not a.surround_of)
    siblings = {a.surround_of: a for a in p.audio if a.surround_of}
    groups: list[tuple[str, tuple[tuple[AudioTrack, AudioTrack], ...]]] = []
    if stereo:
        groups.append((AUDIO_GROUP, tuple((a, a) for a in stereo)))
    if siblings:
        groups.append((SURROUND_GROUP, tuple((a, siblings.get(a.id, a)) for a in stereo)))
    return tuple(groups)


def render_master(p: Presentation) -> str:
    """The master (multivariant) playlist: renditions, variants by bandwidth (once per audio group: every
    variant is listed with the stereo group, then again with the 5.1 group, so a player picks either sound;
    Apple HLS authoring spec), then I-frame variants."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{MEDIA_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for key, value in p.provenance:
        # A comment is any line starting '#' but not '#EXT' (RFC 8216 §4.1); one line per pair.
        lines.append(f"# vodfleet-{key}: {value}".replace("\r", " ").replace("\n", " "))
    groups = audio_groups(p)
    for group, members in groups:
        default_audio = _default_index([a.default for a, _ in members], required=True)
        for i, (audio, media) in enumerate(members):
            lines.append("#EXT-X-MEDIA:" + _attributes([
                ("TYPE", "AUDIO"), ("GROUP-ID", _quoted(group)), ("LANGUAGE", _quoted(audio.language)),
                ("NAME", _quoted(audio.name or audio.language)), ("DEFAULT", _yes(i == default_audio)),
                ("AUTOSELECT", "YES"), ("CHANNELS", _quoted(str(media.channels))),
                *([("CHARACTERISTICS", _quoted(DESCRIBES_VIDEO))] if audio.role == "description" else []),
                ("URI", _quoted(f"{media.path}/{MEDIA}"))]))
    default_subtitle = _default_index([s.default for s in p.subtitles], required=False)
    for i, sub in enumerate(p.subtitles):
        lines.append("#EXT-X-MEDIA:" + _attributes([
            ("TYPE", "SUBTITLES"), ("GROUP-ID", _quoted(SUBTITLE_GROUP)), ("LANGUAGE", _quoted(sub.language)),
            ("NAME", _quoted(sub.name or sub.language)), ("DEFAULT", _yes(i == default_subtitle)),
            ("AUTOSELECT", "YES"), ("FORCED", _yes(sub.forced)),
            *([("CHARACTERISTICS", _quoted(SDH_CHARACTERISTICS))] if sub.sdh else []),
            ("URI", _quoted(f"{sub.path}/{MEDIA}"))]))
    for captions in p.closed_captions:
        # RFC 8216 §4.3.4.1: INSTREAM-ID names the channel/service; no URI (the captions are in the video).
        lines.append("#EXT-X-MEDIA:" + _attributes([
            ("TYPE", "CLOSED-CAPTIONS"), ("GROUP-ID", _quoted(CAPTION_GROUP)),
            ("LANGUAGE", _quoted(captions.language)), ("NAME", _quoted(captions.name)),
            ("DEFAULT", "NO"), ("AUTOSELECT", "YES"), ("INSTREAM-ID", _quoted(captions.instream_id))]))
    ranged = _video_range(p)
    listed: tuple[tuple[str | None, tuple[tuple[AudioTrack, AudioTrack], ...]], ...] = groups or ((None, ()),)
    for group_id, members in listed:  # no audio: the variants once, without AUDIO
        played = list(dict.fromkeys(media for _, media in members))
        audio_peak = max((a.peak_bitrate for a in played), default=0)
        audio_average = max((a.average_bitrate for a in played), default=0)
        audio_codecs = list(dict.fromkeys(a.codecs for a in played))  # every codec the group may play
        for video in variant_order(p.video):
            pairs = [("BANDWIDTH", str(video.peak_bitrate + audio_peak)),
                     ("AVERAGE-BANDWIDTH", str(video.average_bitrate + audio_average)),
                     ("CODECS", _quoted(",".join([video.codecs, *audio_codecs]))),
                     ("RESOLUTION", f"{video.width}x{video.height}"),
                     ("FRAME-RATE", f"{float(video.frame_rate):.3f}")]
            pairs += [("VIDEO-RANGE", video.video_range)] if ranged else []
            pairs += [("AUDIO", _quoted(group_id))] if group_id else []
            pairs += [("SUBTITLES", _quoted(SUBTITLE_GROUP))] if p.subtitles else []
            # In-band captions ride in the H.264 rungs' SEI only (libx264 -a53cc; x265/SVT-AV1 carry none here).
            # RFC 8216 §4.3.4.2: once one variant says NONE all must, so an HEVC/AV1 variant beside captioned
            # H.264 ones leaves the attribute out instead.
            if not p.closed_captions:
                pairs.append(("CLOSED-CAPTIONS", "NONE"))
            elif video.codec == "h264":
                pairs.append(("CLOSED-CAPTIONS", _quoted(CAPTION_GROUP)))
            lines += ["#EXT-X-STREAM-INF:" + _attributes(pairs), f"{video.path}/{MEDIA}"]
    for video in variant_order(p.video):  # the same order as the variants
        peak, average = _iframe_bandwidth(video)
        lines.append("#EXT-X-I-FRAME-STREAM-INF:" + _attributes([
            ("BANDWIDTH", str(peak)), ("AVERAGE-BANDWIDTH", str(average)), ("CODECS", _quoted(video.codecs)),
            ("RESOLUTION", f"{video.width}x{video.height}"),
            *([("VIDEO-RANGE", video.video_range)] if ranged else []), ("URI", _quoted(f"{video.path}/{IFRAMES}"))]))
    if p.storyboard is not None:
        lines.append(image_stream_inf(p.storyboard))
    return _text(lines)


IMAGE_VERSION = 7  # the Image Media Playlist spec v0.4's examples (EXT-X-IMAGES-ONLY, EXT-X-TILES)


def render_image_playlist(board: Storyboard) -> str:
    """The image media playlist of a storyboard (Image Media Playlist spec v0.4, as Roku and Shaka read it):
    one entry per sheet, its EXTINF the time it covers, EXT-X-TILES giving the tile RESOLUTION, the LAYOUT
    (columns x rows) and the DURATION of one tile."""
    durations = [_seconds(s.duration) for s in board.sheets]
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{IMAGE_VERSION}", f"#EXT-X-TARGETDURATION:{_target(durations)}",
             "#EXT-X-MEDIA-SEQUENCE:1", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-IMAGES-ONLY"]
    tiles = _attributes([("RESOLUTION", f"{board.tile_width}x{board.tile_height}"),
                         ("LAYOUT", f"{board.columns}x{board.rows}"), ("DURATION", _seconds(board.interval))])
    for sheet, duration in zip(board.sheets, durations, strict=True):
        lines += [f"#EXTINF:{duration},", f"#EXT-X-TILES:{tiles}", sheet.uri]
    return _text([*lines, "#EXT-X-ENDLIST"])


def image_stream_inf(board: Storyboard) -> str:
    """The master's EXT-X-IMAGE-STREAM-INF line: BANDWIDTH the biggest sheet over the time a full sheet covers,
    RESOLUTION one tile's, CODECS "jpeg"."""
    peak = max((s.size for s in board.sheets), default=0) * 8 / board.sheet_seconds
    return "#EXT-X-IMAGE-STREAM-INF:" + _attributes([
        ("BANDWIDTH", str(max(1, math.ceil(peak)))), ("RESOLUTION", f"{board.tile_width}x{board.tile_height}"),
        ("CODECS", _quoted("jpeg")), ("URI", _quoted(f"{board.path}/{board.playlist}"))])


def _write(root: Path, rel: str, text: str) -> None:
    write_text_atomic(root / rel, text)


def write_hls(root: Path, p: Presentation) -> list[str]:
    """Write every playlist under ``root``; media playlists first, the master last. Returns relative paths."""
    files: dict[str, str] = {}
    for video in p.video:
        files[f"{video.path}/{MEDIA}"] = render_media(video)
        files[f"{video.path}/{IFRAMES}"] = render_iframes(video)
    for audio in p.audio:
        files[f"{audio.path}/{MEDIA}"] = render_media(audio)
    # Subtitle playlists take the video's target duration, so every playlist advertises the same cadence.
    target = max((_target(_seconds(s.duration) for s in v.segments) for v in p.video), default=1)
    for sub in p.subtitles:
        files[f"{sub.path}/{MEDIA}"] = render_subtitle_media(sub, target)
    if p.storyboard is not None:
        files[f"{p.storyboard.path}/{p.storyboard.playlist}"] = render_image_playlist(p.storyboard)
    files[MASTER] = render_master(p)
    for rel, text in files.items():
        _write(root, rel, text)
    return list(files)

"""Presentation: the packaged CMAF output as measured data, from which HLS and DASH manifests are written.

Every number here is measured from the files on disk (ISO-BMFF boxes), never copied from the plan.
Paths are POSIX, relative to the output root (``video/720p/seg_00001.m4s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Segment:
    uri: str  # file name relative to its rendition folder, e.g. "seg_00001.m4s"
    start: float  # presentation start in seconds on the media timeline (tfdt / timescale)
    duration: float  # seconds (sum of sample durations)
    size: int  # bytes of the whole segment file
    decode_time: int = 0  # tfdt in timescale units
    duration_units: int = 0  # duration in timescale units
    # Video only: the byte range [offset, offset+length) holding the moof and the first (key) frame,
    # for the I-frame playlist.
    iframe_offset: int = 0
    iframe_length: int = 0
    starts_with_keyframe: bool = True

    @property
    def bitrate(self) -> float:
        """Bits per second of this segment (0 for an empty one)."""
        return self.size * 8 / self.duration if self.duration > 0 else 0.0


@dataclass(frozen=True)
class Track:
    """Fields shared by every CMAF rendition."""

    id: str  # unique within its kind, safe as a path segment: "720p", "en", "es-2"
    path: str  # folder relative to the root: "video/720p"
    init: str  # init segment file name within `path`
    codecs: str  # RFC 6381: "avc1.64001f", "mp4a.40.2"
    timescale: int
    segments: tuple[Segment, ...]
    init_size: int = 0

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    @property
    def peak_bitrate(self) -> int:
        return round(max((s.bitrate for s in self.segments), default=0.0))

    @property
    def average_bitrate(self) -> int:
        total = self.duration
        return round(sum(s.size for s in self.segments) * 8 / total) if total > 0 else 0


@dataclass(frozen=True)
class VideoTrack(Track):
    width: int = 0
    height: int = 0
    frame_rate: Fraction = Fraction(25)
    nominal_bitrate: int = 0  # the rung's target, bits/s (for information; manifests use measured)
    codec: str = "h264"  # pipelines.codecs.CODECS: HLS lists and DASH groups renditions by it
    video_range: str = "SDR"  # SDR, PQ or HLG: HLS VIDEO-RANGE, DASH cicp descriptors


@dataclass(frozen=True)
class AudioTrack(Track):
    language: str = "und"  # BCP-47
    name: str = ""  # human label shown in players, e.g. "English"
    channels: int = 2
    sample_rate: int = 48000
    default: bool = False
    role: str = "main"  # main, alternate, description (audio description), commentary
    surround_of: str = ""  # a 5.1 rendition: the id of its stereo sibling ("" for a stereo rendition)


@dataclass(frozen=True)
class SubtitleTrack:
    id: str  # safe as a path segment, usually the language tag
    path: str  # folder: "subtitles/ko"
    language: str  # BCP-47
    name: str
    vtt: str  # whole-title WebVTT sidecar within `path`, the DASH text when opted in; "" when not written
    segments: tuple[Segment, ...]  # HLS WebVTT segments aligned to the media segments
    default: bool = False
    forced: bool = False  # forced narrative: HLS FORCED=YES, DASH Role forced-subtitle
    sdh: bool = False  # for the deaf and hard of hearing: HLS CHARACTERISTICS, DASH Accessibility
    # DASH text as WebVTT in ISO-BMFF (ISO/IEC 14496-30 wvtt, timescale 1000), one fragment per media
    # segment with the same boundaries; "" and () when the sidecar is the DASH text instead.
    init: str = ""
    fragments: tuple[Segment, ...] = ()
    init_size: int = 0
    timescale: int = 1000


@dataclass(frozen=True)
class ClosedCaptions:
    """A caption channel or service carried in-band in every video rung (A/53 SEI), named as HLS names it."""

    instream_id: str  # RFC 8216 §4.3.4.1: "CC1".."CC4" (CEA-608) or "SERVICE1".."SERVICE63" (CEA-708)
    language: str  # BCP-47
    name: str  # players' menu label, e.g. "English (CC1)"

    @property
    def cea708(self) -> bool:
        return self.instream_id.startswith("SERVICE")


@dataclass(frozen=True)
class Storyboard:
    """Thumbnail sprite sheets (pipelines.storyboard): `tiles` tiles of `tile_width`x`tile_height`, row-major,
    `columns`x`rows` per sheet, one every `interval` seconds from 0."""

    path: str  # folder: "thumbnails"
    interval: float  # seconds per tile
    tile_width: int
    tile_height: int
    columns: int
    rows: int
    tiles: int  # tiles made (every sheet but the last is full)
    sheets: tuple[Segment, ...]  # sprite_0001.jpg …: start, duration covered, bytes
    vtt: str = "thumbnails.vtt"  # the WebVTT thumbnails track within `path`
    playlist: str = "index.m3u8"  # the HLS image media playlist within `path`

    @property
    def sheet_seconds(self) -> float:
        """Seconds a full sheet covers."""
        return self.columns * self.rows * self.interval


@dataclass(frozen=True)
class Presentation:
    duration: float  # seconds, the longest track's
    segment_seconds: int  # target segment duration
    video: tuple[VideoTrack, ...]
    audio: tuple[AudioTrack, ...] = ()
    subtitles: tuple[SubtitleTrack, ...] = ()
    # Free-form provenance written into manifests as comments (e.g. the encoder fingerprint).
    provenance: tuple[tuple[str, str], ...] = field(default=())
    storyboard: Storyboard | None = None  # thumbnail tiles, in both manifests when present
    closed_captions: tuple[ClosedCaptions, ...] = ()  # in-band in every video rung; CC channels before services

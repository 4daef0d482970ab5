"""SourceInfo: what the planner needs to know about a master, as frozen data (filled by `probe`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class VideoStream:
    index: int  # absolute stream index in the container
    codec: str
    width: int  # coded/storage width in pixels (before SAR and rotation)
    height: int
    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio
    rotation: int = 0  # clockwise degrees the player must rotate: 0, 90, 180 or 270
    fps: Fraction = Fraction(25)  # r_frame_rate: the real (base) frame rate
    avg_fps: Fraction = Fraction(25)
    vfr: bool = False
    interlaced: bool = False
    field_order: str = "progressive"
    pix_fmt: str = "yuv420p"
    bit_depth: int = 8
    color_transfer: str = ""
    color_primaries: str = ""
    color_space: str = ""
    frame_count: int | None = None
    duration: float | None = None  # the video stream's own duration (the container's may be longer)
    start_time: float | None = None  # the stream's first timestamp, in the container's clock

    @property
    def hdr(self) -> bool:
        """PQ (SMPTE 2084, HDR10/Dolby Vision) or HLG (ARIB STD-B67) transfer."""
        return self.color_transfer in {"smpte2084", "arib-std-b67"}

    @property
    def display_size(self) -> tuple[int, int]:
        """Size as shown: SAR applied to the width, then the rotation applied."""
        width = round(self.width * self.sar) if self.sar > 0 else self.width
        height = self.height
        if self.rotation in (90, 270):
            width, height = height, width
        return max(width, 1), max(height, 1)

    @property
    def display_aspect(self) -> Fraction:
        width, height = self.display_size
        return Fraction(width, height)


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    channels: int
    sample_rate: int
    channel_layout: str = ""
    language: str | None = None  # ISO 639-2 as tagged ("eng"), or None for und/missing
    title: str = ""
    duration: float | None = None  # the stream's own duration, when the container says
    start_time: float | None = None  # the stream's first timestamp, in the container's clock


@dataclass(frozen=True)
class SubtitleStream:
    index: int
    codec: str
    language: str | None = None
    title: str = ""

    @property
    def text_based(self) -> bool:
        return self.codec in TEXT_SUBTITLE_CODECS


TEXT_SUBTITLE_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text", "ttml"})


@dataclass(frozen=True)
class SourceInfo:
    path: str
    format_name: str
    size_bytes: int
    duration: float  # seconds
    video: VideoStream
    audio: tuple[AudioStream, ...] = ()
    subtitles: tuple[SubtitleStream, ...] = ()
    bit_rate: int | None = None
    start_time: float = 0.0
    tags: tuple[tuple[str, str], ...] = field(default=())

    def offset(self, stream_start: float | None) -> float:
        """Where a stream begins on the output timeline, which starts at the container's first timestamp
        (ffmpeg's default); a stream that begins later is padded from 0 (held frame, silence)."""
        return max(0.0, stream_start - self.start_time) if stream_start is not None else 0.0

    @property
    def media_duration(self) -> float:
        """Where the picture ends on the output timeline: its start offset plus the video stream's duration,
        else the container's duration.

        A container can be much longer than its picture (a subtitle track or trailing audio in an MKV);
        subtitles are clamped to this, and the published video lasts this long.
        """
        own = self.video.duration
        if own is None or own <= 0:
            return self.duration
        return self.offset(self.video.start_time) + own

    @property
    def text_subtitles(self) -> tuple[SubtitleStream, ...]:
        return tuple(s for s in self.subtitles if s.text_based)

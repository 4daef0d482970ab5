"""Streams: ffprobe one joined rendition file (once) and check what it holds against the plan.

``probe_argv`` and ``parse_probe`` are pure (argv out, JSON text in); ``probe_file`` is the effect.
Only the packet fields QC needs are requested (``-show_entries packet=...``), in compact JSON, so a
two-hour rendition stays a few MB of output.
"""

from __future__ import annotations

import json
import statistics
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines.codecs import COLOURS, PROBE_NAMES, SAMPLE_ENTRIES
from pipelines.errors import CheckResult, PipelineError
from pipelines.isobmff import read_fragment, read_init
from pipelines.qc.verdict import verdict
from pipelines.rendition import AudioRendition, VideoRendition
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools

# ffprobe reads our own files from local disk: a generous fixed allowance plus time per media second.
PROBE_TIMEOUT_BASE = 60.0
PROBE_TIMEOUT_PER_SECOND = 0.5
PROBE_MAX_OUTPUT = 256 * 1024 * 1024
# ffprobe's profile names → what a ladder rung may ask for ("baseline" also accepts Constrained Baseline,
# the subset x264 writes for it: every Baseline decoder plays it).
RUNG_PROFILES = {"baseline": ("Baseline", "Constrained Baseline"), "main": ("Main",), "high": ("High",)}
# Other codecs' rung profiles → ffprobe's names (HEVC: ITU-T H.265 Annex A; AV1: the AV1 spec's seq_profile)
CODEC_PROFILES = {("hevc", "main"): ("Main",), ("hevc", "main10"): ("Main 10",), ("av1", "main"): ("Main",)}
FRAME_RATE_TOLERANCE = Fraction(1, 1000)  # relative: 29.97 vs 30000/1001 written as a rounded ratio


@dataclass(frozen=True)
class Packet:
    pts: float  # seconds
    duration: float | None  # seconds; ffprobe omits it on some packets (the first AAC frame)
    key: bool


@dataclass(frozen=True)
class StreamInfo:
    codec_type: str
    codec_name: str
    profile: str = ""
    level: int | None = None
    width: int = 0
    height: int = 0
    pix_fmt: str = ""
    frame_rate: Fraction | None = None  # r_frame_rate, else avg_frame_rate
    channels: int = 0
    sample_rate: int = 0
    codec_tag: str = ""  # codec_tag_string: the sample entry ("avc1", "hvc1", "av01")
    color_primaries: str = ""
    color_transfer: str = ""
    color_space: str = ""


def bit_depth(pix_fmt: str) -> int:
    """Bits per sample of a planar YUV pix_fmt as ffprobe names it: yuv420p → 8, yuv420p10le → 10."""
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8


@dataclass(frozen=True)
class Probe:
    """One file as ffprobe sees it: its streams and every packet of its first stream."""

    streams: tuple[StreamInfo, ...]
    packets: tuple[Packet, ...]

    @property
    def keyframes(self) -> tuple[float, ...]:
        return tuple(sorted(p.pts for p in self.packets if p.key))

    @property
    def start(self) -> float:
        return min((p.pts for p in self.packets), default=0.0)

    @property
    def end(self) -> float:
        """Presentation end: the latest pts + duration (a packet without a duration counts the median)."""
        known = [p.duration for p in self.packets if p.duration is not None]
        typical = statistics.median(known) if known else 0.0
        return max((p.pts + (typical if p.duration is None else p.duration) for p in self.packets), default=0.0)

    @property
    def duration(self) -> float:
        return self.end - self.start if self.packets else 0.0

    def shifted(self, seconds: float) -> Probe:
        """The same packets with every pts moved by `seconds`."""
        return Probe(self.streams, tuple(replace(p, pts=p.pts + seconds) for p in self.packets))


def ffmpeg_pts_shift(init: bytes, segments: Iterable[bytes]) -> float:
    """Seconds that ffmpeg's mov demuxer adds to every pts of a track with negative composition offsets.

    ISO/IEC 14496-12 says CT = DT + CTO, and browsers (MSE) and AVPlayer present the first frame of our
    trun-v1 tracks at 0. ffmpeg keeps pts >= dts by adding the largest negative offset of the whole track
    (its dts_shift, over every fragment it indexed, not just the first) to every pts, so ffprobe reports the
    B-frame delay as a late start. QC re-bases ffprobe's times on the spec's by exactly that amount (and no
    more, so a real offset still fails). Found at 23.976 fps: a first segment with a 1-frame delay and a
    later one with 2 made ffprobe start every pts 2 frames late.
    """
    info = read_init(init)
    offsets = (min(read_fragment(segment, info).composition_offsets, default=0) for segment in segments)
    return max(0, -min(offsets, default=0)) / info.timescale


def probe_argv(ffprobe: str, path: Path) -> list[str]:
    """Streams and every packet's pts/duration/flags of one local file (``file:`` so no name is a protocol)."""
    return [ffprobe, "-v", "error", "-hide_banner", "-protocol_whitelist", "file", "-show_streams",
            "-show_entries", "packet=stream_index,pts_time,duration_time,flags", "-of", "json=c=1",
            f"file:{path.absolute()}"]


def _fraction(text: object) -> Fraction | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _float(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _stream(raw: dict[str, Any]) -> StreamInfo:
    level = raw.get("level")
    return StreamInfo(
        codec_type=str(raw.get("codec_type", "")), codec_name=str(raw.get("codec_name", "")),
        profile=str(raw.get("profile", "")), level=_int(level) if level is not None else None,
        width=_int(raw.get("width")), height=_int(raw.get("height")), pix_fmt=str(raw.get("pix_fmt", "")),
        frame_rate=_fraction(raw.get("r_frame_rate")) or _fraction(raw.get("avg_frame_rate")),
        channels=_int(raw.get("channels")), sample_rate=_int(raw.get("sample_rate")),
        codec_tag=str(raw.get("codec_tag_string", "")), color_primaries=str(raw.get("color_primaries", "")),
        color_transfer=str(raw.get("color_transfer", "")), color_space=str(raw.get("color_space", "")))


def parse_probe(text: str | bytes) -> Probe:
    """ffprobe JSON → Probe; packets of stream 0 only, without a pts skipped. Raises ValueError if not JSON."""
    loaded = json.loads(text)
    doc: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    streams = tuple(_stream(s) for s in doc.get("streams", []) if isinstance(s, dict))
    packets = []
    for raw in doc.get("packets", []):
        if not isinstance(raw, dict) or _int(raw.get("stream_index"), 0) != 0:
            continue
        pts = _float(raw.get("pts_time"))
        if pts is None:
            continue
        packets.append(Packet(pts=pts, duration=_float(raw.get("duration_time")),
                              key="K" in str(raw.get("flags", ""))))
    return Probe(streams, tuple(packets))


def probe_file(path: Path, tools: Tools, *, media_seconds: float,
               cancel: threading.Event | None = None) -> Probe:
    """Run ffprobe on one file through the runner; FFmpegFailed/Cancelled propagate, bad JSON is a
    PipelineError(code="qc_probe_unreadable")."""
    limits = RunLimits(timeout=PROBE_TIMEOUT_BASE + media_seconds * PROBE_TIMEOUT_PER_SECOND,
                       max_stdout_bytes=PROBE_MAX_OUTPUT)
    result = run(probe_argv(tools.ffprobe, path), limits=limits, cancel=cancel)
    try:
        return parse_probe(result.stdout)
    except ValueError as exc:
        raise PipelineError(f"{path}: ffprobe printed no readable JSON ({exc})", code="qc_probe_unreadable",
                            hint="the output was cut at the size cap or ffprobe misbehaved") from exc


def _only(probe: Probe, kind: str) -> tuple[StreamInfo | None, str]:
    found = [s for s in probe.streams if s.codec_type == kind]
    if len(found) == 1 and len(probe.streams) == 1:
        return found[0], ""
    kinds = ", ".join(s.codec_type for s in probe.streams) or "nothing"
    return None, f"expected exactly one {kind} stream, ffprobe found {kinds}"


def video_stream_checks(rung: VideoRendition, probe: Probe, fps: Fraction) -> list[CheckResult]:
    """The rung's codec (and HEVC's hvc1 sample entry), its profile, its size, its pix_fmt (yuv420p, or
    yuv420p10le for an HDR rung), its colour signalling (pipelines.codecs.COLOURS of its dynamic range), the
    plan's frame rate; one check each."""
    prefix = f"video.{rung.id}"
    stream, problem = _only(probe, "video")
    if stream is None:
        return [verdict(f"{prefix}.streams", [problem], "")]
    allowed = (RUNG_PROFILES.get(rung.profile, (rung.profile,)) if rung.codec == "h264"
               else CODEC_PROFILES.get((rung.codec, rung.profile), (rung.profile,)))
    rate = stream.frame_rate
    rate_ok = rate is not None and abs(rate - fps) <= fps * FRAME_RATE_TOLERANCE
    codec = PROBE_NAMES.get(rung.codec, rung.codec)
    tag = SAMPLE_ENTRIES.get(rung.codec, "")
    codec_problems = [] if stream.codec_name == codec else [
        f"{rung.id}: codec {stream.codec_name!r}, expected {codec!r}"]
    if rung.codec == "hevc" and stream.codec_tag != tag:  # Apple's HLS authoring spec: HEVC in fMP4 as hvc1
        codec_problems.append(f"{rung.id}: sample entry {stream.codec_tag!r}, expected {tag!r}")
    colour = COLOURS[rung.dynamic_range]
    wanted = (colour.primaries, colour.transfer, colour.matrix)
    found = (stream.color_primaries, stream.color_transfer, stream.color_space)
    return [
        verdict(f"{prefix}.streams", [], f"one video stream, {len(probe.packets)} packets"),
        verdict(f"{prefix}.codec", codec_problems, f"codec {stream.codec_name} ({stream.codec_tag})"),
        verdict(f"{prefix}.profile", [] if stream.profile in allowed else [
            f"{rung.id}: profile {stream.profile!r}, the rung asks for {rung.profile!r} "
            f"({' or '.join(allowed)})"], f"profile {stream.profile}, level {stream.level}"),
        verdict(f"{prefix}.size", [] if (stream.width, stream.height) == (rung.width, rung.height) else [
            f"{rung.id}: {stream.width}x{stream.height}, expected {rung.width}x{rung.height}"],
            f"{stream.width}x{stream.height}"),
        verdict(f"{prefix}.pix_fmt", [] if stream.pix_fmt == rung.pix_fmt else [
            f"{rung.id}: pix_fmt {stream.pix_fmt!r}, expected {rung.pix_fmt!r}"], f"pix_fmt {stream.pix_fmt}"),
        verdict(f"{prefix}.colour", [] if found == wanted else [
            f"{rung.id}: colour primaries/transfer/matrix {'/'.join(found)}, expected {'/'.join(wanted)} "
            f"({rung.dynamic_range})"], f"{rung.dynamic_range}: {'/'.join(found)}"),
        verdict(f"{prefix}.frame_rate", [] if rate_ok else [
            f"{rung.id}: {rate} fps ({float(rate or 0):.3f}), expected {fps} ({float(fps):.3f})"],
            f"{rate} fps"),
    ]


def audio_stream_checks(rendition: AudioRendition, probe: Probe) -> list[CheckResult]:
    """AAC-LC, the planned channel count (2) and sample rate (48000 Hz); one check each."""
    prefix = f"audio.{rendition.id}"
    stream, problem = _only(probe, "audio")
    if stream is None:
        return [verdict(f"{prefix}.streams", [problem], "")]
    codec_ok = stream.codec_name == "aac" and stream.profile == "LC"
    return [
        verdict(f"{prefix}.streams", [], f"one audio stream, {len(probe.packets)} packets"),
        verdict(f"{prefix}.codec", [] if codec_ok else [
            f"{rendition.id}: {stream.codec_name} profile {stream.profile!r}, expected aac 'LC'"],
            f"{stream.codec_name} {stream.profile}"),
        verdict(f"{prefix}.channels", [] if stream.channels == rendition.channels else [
            f"{rendition.id}: {stream.channels} channel(s), expected {rendition.channels}"],
            f"{stream.channels} channels"),
        verdict(f"{prefix}.sample_rate", [] if stream.sample_rate == rendition.sample_rate else [
            f"{rendition.id}: {stream.sample_rate} Hz, expected {rendition.sample_rate} Hz"],
            f"{stream.sample_rate} Hz"),
    ]

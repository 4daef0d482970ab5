"""Measure packaged CMAF renditions on disk into `presentation` tracks: the effects at the edge of `isobmff`.

A rendition folder holds ``init.mp4`` and ``seg_00001.m4s`` … (ffmpeg's ``hls`` muxer, fMP4); other files
(ffmpeg's own .m3u8) are ignored. Segments must be numbered 1..N without gaps, because the DASH
SegmentTemplate addresses them by ``$Number$``. Every Segment field comes from the boxes and the file size.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

from pipelines.errors import PipelineError, ScratchError
from pipelines.isobmff import InitInfo, read_fragment, read_init
from pipelines.presentation import AudioTrack, Segment, VideoTrack

INIT_NAME = "init.mp4"
_SEGMENT_NAME = re.compile(r"seg_(\d+)\.m4s")
T = TypeVar("T")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise PipelineError(f"{path}: missing", hint="the package step did not write this file",
                            code="cmaf_missing") from exc
    except OSError as exc:
        raise ScratchError(f"{path}: cannot read: {exc}", hint="check the scratch disk") from exc


def _segment_names(folder: Path) -> list[str]:
    try:
        names = [p.name for p in folder.iterdir() if _SEGMENT_NAME.fullmatch(p.name)]
    except FileNotFoundError as exc:
        raise PipelineError(f"{folder}: no such rendition folder", hint="the package step did not write it",
                            code="cmaf_missing") from exc
    names.sort(key=lambda name: int(name[4:-4]))
    numbers = [int(name[4:-4]) for name in names]
    if not numbers:
        raise PipelineError(f"{folder}: no seg_*.m4s segments", hint="the package step wrote no media",
                            code="cmaf_missing")
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        raise PipelineError(f"{folder}: segments are not numbered 1..N (missing {missing[:5]}, "
                            f"found {len(numbers)} up to {numbers[-1]})",
                            hint="DASH addresses segments by number; a gap means a lost file",
                            code="cmaf_malformed")
    return names


def _named(path: Path, parse: Callable[[], T]) -> T:
    """Run a parser; isobmff knows bytes, not files, so name the file in any error it raises."""
    try:
        return parse()
    except PipelineError as exc:
        raise PipelineError(f"{path}: {exc.message}", hint=exc.hint, code=exc.code) from exc


def _segment(path: Path, init: InitInfo) -> Segment:
    blob = _read(path)
    frag = _named(path, lambda: read_fragment(blob, init))
    video = init.handler == "vide"  # I-frame byte ranges only mean something for video
    return Segment(
        uri=path.name,
        start=frag.decode_time / init.timescale,
        duration=frag.duration / init.timescale,
        size=len(blob),
        decode_time=frag.decode_time,
        duration_units=frag.duration,
        iframe_offset=frag.iframe_offset if video else 0,
        iframe_length=frag.iframe_length if video else 0,
        starts_with_keyframe=frag.starts_with_sync,
    )


def _measure(root: Path, rel_dir: str, handler: str) -> tuple[InitInfo, int, tuple[Segment, ...]]:
    folder = root / rel_dir
    data = _read(folder / INIT_NAME)
    init = _named(folder / INIT_NAME, lambda: read_init(data))
    if init.handler != handler:
        raise PipelineError(f"{folder / INIT_NAME}: holds a {init.handler!r} track, expected {handler!r}",
                            hint="the rendition folders are mixed up", code="cmaf_malformed")
    return init, len(data), tuple(_segment(folder / name, init) for name in _segment_names(folder))


def measure_video_track(root: Path, rel_dir: str, track_id: str, *, nominal_bitrate: int,
                        frame_rate: Fraction, codec: str = "h264", video_range: str = "SDR") -> VideoTrack:
    """Measure ``root/rel_dir`` (e.g. ``video/720p``) as a video rendition; `codec` and `video_range` are the
    plan's (QC checks them against ffprobe), the RFC 6381 string is read from the init segment."""
    init, init_size, segments = _measure(root, rel_dir, "vide")
    return VideoTrack(id=track_id, path=rel_dir, init=INIT_NAME, codecs=init.codec, timescale=init.timescale,
                      segments=segments, init_size=init_size, width=init.width, height=init.height,
                      frame_rate=frame_rate, nominal_bitrate=nominal_bitrate, codec=codec, video_range=video_range)


def measure_audio_track(root: Path, rel_dir: str, track_id: str, *, language: str, name: str,
                        default: bool, role: str = "main", surround_of: str = "") -> AudioTrack:
    """Measure ``root/rel_dir`` (e.g. ``audio/en``) as an audio rendition."""
    init, init_size, segments = _measure(root, rel_dir, "soun")
    return AudioTrack(id=track_id, path=rel_dir, init=INIT_NAME, codecs=init.codec, timescale=init.timescale,
                      segments=segments, init_size=init_size, language=language, name=name,
                      channels=init.channels, sample_rate=init.sample_rate, default=default, role=role,
                      surround_of=surround_of)

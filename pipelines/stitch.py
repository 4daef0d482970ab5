"""Stitch: chunk outputs → one folder per rung, checked; manifest assembly, never a re-mux.

    gather(plan, chunks, folders, dest)        → [CheckResult]  compare, then move segments into dest/video/<rung>/
    check_timeline(chunks, S, fps, track)       → [CheckResult]  pure, over a measured VideoTrack
    check_decode(rung, frames, decoded, error) → CheckResult    pure, over one full decode of the joined rung
    decode_rung(root, track, ...)              → (frames, error)  that decode (ffmpeg -xerror … -f null -)

`gather` refuses (moves nothing) when a chunk's init segment differs from chunk 0's for the same rung
(another encoder build or other settings: the SPS/PPS in avcC differ, so its segments would not decode
with the published init), when its x264 SEI (build and options) differs, or when a chunk's segments
are not exactly its planned numbers. The timeline checks: per rung, the segment count and total
duration are the plan's; every segment starts on the whole-file grid (the tfdt of each chunk's first
segment is the whole-file value); decode times are continuous across every join. A failed check names
the chunk and the rung; the caller raises QCFailed and nothing is published.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from pipelines.chunk import Chunk, segment_starts
from pipelines.errors import CheckResult, FFmpegFailed, PipelineError
from pipelines.ffmpeg import INIT_NAME, decode_argv, segment_name
from pipelines.isobmff import read_init
from pipelines.plan import EncodePlan
from pipelines.presentation import VideoTrack
from pipelines.qc.verdict import verdict
from pipelines.rendition import VideoRendition
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools
from pipelines.tracks import join_track

_X264_SEI = re.compile(rb"x264 - core [^\x00]*")
X264_NOTE = "x264-sei.txt"  # beside a chunk's segments: the SEI of its first (pre-roll) segment, which is dropped
_FRAME_LINE = re.compile(r"^frame=(\d+)\s*$", re.MULTILINE)


def x264_settings(segment: bytes) -> str:
    """The x264 SEI text of a segment (build and every option), or "" when it carries none."""
    match = _X264_SEI.search(segment)
    return match[0].decode("latin-1") if match else ""


def _init_difference(reference: bytes, other: bytes) -> str:
    """What differs between two init segments, in words (codec strings first, else the first byte)."""
    try:
        a, b = read_init(reference), read_init(other)
    except PipelineError as exc:
        return f"unreadable init segment ({exc.message})"
    if a.codec != b.codec:
        return f"codec {b.codec} vs {a.codec}"
    if (a.width, a.height) != (b.width, b.height):
        return f"size {b.width}x{b.height} vs {a.width}x{a.height}"
    at = next((i for i, (x, y) in enumerate(zip(reference, other, strict=False)) if x != y),
              min(len(reference), len(other)))
    return f"{len(other)} bytes vs {len(reference)}, first difference at byte {at}"


def _gather_checks(plan: EncodePlan, chunks: Sequence[Chunk], folders: Sequence[Path],
                   rung: VideoRendition) -> list[CheckResult]:
    init_problems: list[str] = []
    file_problems: list[str] = []
    x264_problems: list[str] = []
    reference: bytes | None = None
    settings: str | None = None
    for chunk, folder in zip(chunks, folders, strict=True):
        where = folder / "video" / rung.id
        try:
            init = (where / INIT_NAME).read_bytes()
        except OSError:
            file_problems.append(f"chunk {chunk.index}: {rung.id}/{INIT_NAME} is missing")
            continue
        if reference is None:
            reference = init
        elif init != reference:
            init_problems.append(f"chunk {chunk.index}'s {rung.id} init segment differs from chunk "
                                 f"{chunks[0].index}'s ({_init_difference(reference, init)}): encoded by another "
                                 "encoder build or with other settings")
        present = sorted(p.name for p in where.glob("seg_*.m4s"))
        planned = [segment_name(n) for n in chunk.segment_numbers]
        if present != planned:
            file_problems.append(f"chunk {chunk.index}: {rung.id} has segments {present[:3]}… ({len(present)}), "
                                 f"planned {planned[0]}…{planned[-1]} ({len(planned)})")
            continue
        found = x264_settings((where / planned[0]).read_bytes()) or _noted_settings(where)
        if settings is None:
            settings = found
        elif found != settings:
            x264_problems.append(f"chunk {chunk.index}'s {rung.id} x264 SEI differs from chunk {chunks[0].index}'s "
                                 f"({_first_option_difference(settings, found)})")
    prefix = f"stitch.{rung.id}"
    count = sum(c.segment_count for c in chunks)
    return [
        verdict(f"{prefix}.files", file_problems, f"{len(chunks)} chunks, {count} segments as planned"),
        verdict(f"{prefix}.init", init_problems, f"{len(chunks)} byte-identical init segments"),
        verdict(f"{prefix}.encoder", x264_problems, f"one x264 build and option set: {settings or 'no SEI'}"[:200]),
    ]


def _noted_settings(folder: Path) -> str:
    """The x264 SEI a chunk's encode wrote into its dropped pre-roll segment, as `chunk_encode` noted it."""
    note = folder / X264_NOTE
    return note.read_text(encoding="latin-1") if note.is_file() else ""


def _first_option_difference(reference: str, other: str) -> str:
    a, b = reference.split(), other.split()
    for x, y in zip(a, b, strict=False):
        if x != y:
            return f"{y} vs {x}"
    return f"{len(b)} fields vs {len(a)}"


def gather(plan: EncodePlan, chunks: Sequence[Chunk], folders: Sequence[Path], dest: Path) -> list[CheckResult]:
    """Check every chunk's rung folders, then (only if all passed) move them into dest/video/<rung>/."""
    checks = [c for rung in plan.video for c in _gather_checks(plan, chunks, folders, rung)]
    if not all(c.passed for c in checks):
        return checks
    for rung in plan.video:
        target = dest / "video" / rung.id
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folders[0] / "video" / rung.id / INIT_NAME, target / INIT_NAME)
        for chunk, folder in zip(chunks, folders, strict=True):
            for number in chunk.segment_numbers:
                (folder / "video" / rung.id / segment_name(number)).rename(target / segment_name(number))
    return checks


def check_timeline(chunks: Sequence[Chunk], segment_seconds: int, fps: Fraction, track: VideoTrack
                   ) -> list[CheckResult]:
    """The stitched rung against the plan: count, grid starts (each chunk's first tfdt), joins, total duration."""
    prefix = f"stitch.{track.id}"
    frames = chunks[-1].end_frame
    starts = segment_starts(frames, segment_seconds, fps)
    count_problems = [] if len(track.segments) == len(starts) else [
        f"{track.id}: {len(track.segments)} segments, the plan has {len(starts)}"]
    scale = track.timescale
    half = Fraction(scale) / fps / 2
    owner = {n: c for c in chunks for n in c.segment_numbers}
    grid_problems = []
    for number, (segment, first) in enumerate(zip(track.segments, starts, strict=False), start=1):
        expected = Fraction(first) / fps * scale
        if abs(segment.decode_time - expected) > half:
            chunk = owner.get(number)
            grid_problems.append(f"{track.id} {segment.uri} (chunk {chunk.index if chunk else '?'}) has tfdt "
                                 f"{segment.decode_time}, the whole-file grid puts it at {float(expected):.1f}")
    join_problems = []
    for number, (a, b) in enumerate(zip(track.segments, track.segments[1:], strict=False), start=1):
        if b.decode_time != a.decode_time + a.duration_units:
            left, right = owner.get(number), owner.get(number + 1)
            where = (f"join chunk {left.index} → chunk {right.index}" if left and right and left != right
                     else "inside a chunk")
            join_problems.append(f"{track.id} {b.uri}: tfdt {b.decode_time} ≠ {a.decode_time} + "
                                 f"{a.duration_units} ({where})")
    total = Fraction(sum(s.duration_units for s in track.segments), scale)
    planned = Fraction(frames) / fps
    # Within a frame, like the whole-file rule: the last chunk runs to the end of the title, which is where
    # the fps filter ends it (a variable-rate master's last frame can round either way); every join is exact.
    duration_problems = [] if abs(total - planned) <= Fraction(3, 2) / fps else [
        f"{track.id}: {float(total):.6f} s of segments, the plan has {float(planned):.6f} s ({frames} frames)"]
    joins = len(chunks) - 1
    return [
        verdict(f"{prefix}.segment_count", count_problems, f"{len(track.segments)} segments"),
        verdict(f"{prefix}.grid", grid_problems, f"every tfdt on the whole-file grid ({len(starts)} segments)"),
        verdict(f"{prefix}.joins", join_problems, f"decode times continuous across {joins} chunk joins"),
        verdict(f"{prefix}.duration", duration_problems, f"{float(total):.6f} s = {frames} frames"),
    ]


def decoded_frames(progress: str) -> int | None:
    """The last ``frame=N`` of ffmpeg's -progress output (pure)."""
    found = _FRAME_LINE.findall(progress)
    return int(found[-1]) if found else None


def track_frames(track: VideoTrack, fps: Fraction) -> int:
    """Frames the segments of a stitched rung declare (their summed durations at the plan's rate)."""
    return round(Fraction(sum(s.duration_units for s in track.segments), track.timescale) * fps)


def check_decode(rung_id: str, expected: int, decoded: int | None, error: str) -> CheckResult:
    problems = [f"{rung_id}: a full decode failed: {error}"] if error else []
    if not error and decoded != expected:
        problems.append(f"{rung_id}: a full decode gives {decoded} frames, its segments declare {expected}")
    return verdict(f"stitch.{rung_id}.decode", problems, f"{decoded} frames decoded without an error")


def decode_rung(root: Path, track: VideoTrack, *, tools: Tools, scratch: Path, seconds: float,
                cancel: threading.Event | None = None) -> tuple[int | None, str]:
    """Decode the joined rung once (-xerror: the first decode error stops it): (frames, error text or "")."""
    joined = join_track(root, track, scratch)
    try:
        result = run(decode_argv(tools.ffmpeg, joined), limits=RunLimits(timeout=60 + seconds * 2),
                     cancel=cancel)
    except FFmpegFailed as exc:
        return None, " | ".join(exc.stderr_tail.strip().splitlines()[-3:]) or exc.message
    finally:
        joined.unlink(missing_ok=True)
    errors = result.stderr_tail.strip()
    return decoded_frames(result.stdout.decode("utf-8", "replace")), errors

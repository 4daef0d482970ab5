"""Chunk: a slice of the title that one ffmpeg encodes for every video rung (split-and-stitch; pure, no I/O).

The segment grid is the whole-file encode's: with ``force_key_frames expr:gte(t,n_forced*G)`` the m-th
keyframe is frame ``ceil(m*G*fps)`` and ffmpeg's hls muxer cuts segment k at the first keyframe at or
after k*S seconds, so segment k starts at frame ``ceil(k*S*fps)`` (at 23.976 fps and S = 6: 144, 288,
432 …, an occasional 143-frame segment). A chunk is a run of whole segments: its boundaries are segment
and GOP boundaries on that frame grid, so the chunks' segments, numbered on from the chunk's first
segment number, are the whole-file segments.

Two details make a chunk's ffmpeg cut where the whole file cuts:

- the hls muxer's threshold is cumulative from the chunk's own first frame (n * hls_time), not from 0; at
  NTSC rates a chunk starting on frame 864 (not 863.14) would cut 6 s later, 2 s too late. `Chunk.split_us`
  is an hls_time (µs) with n*hls_time inside (previous keyframe, boundary n] for every cut n, checked here.
- keyframes are forced at the chunk's local frame numbers of the whole-file grid (`keyframe_frames`).

`plan_chunks` sizes chunks near a target length (a task must end well inside a container's grace
period), never under `min_seconds`, splitting the segments as evenly as possible (earlier chunks take
the remainder).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction

from pipelines.errors import ConfigError

DEFAULT_THRESHOLD_SECONDS = 300.0  # masters longer than this are chunked by `--chunks auto`
DEFAULT_TARGET_SECONDS = 45.0  # of source per chunk: minutes of encode at worst, well inside a grace period
MIN_CHUNK_SECONDS = 8.0


@dataclass(frozen=True)
class ChunkPolicy:
    """How to cut a title: `count` forces N chunks; otherwise auto (chunked only above `threshold_seconds`)."""

    count: int | None = None
    threshold_seconds: float = DEFAULT_THRESHOLD_SECONDS
    target_seconds: float = DEFAULT_TARGET_SECONDS
    min_seconds: float = MIN_CHUNK_SECONDS

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            raise ConfigError(f"chunk count {self.count} is not positive", hint="use --chunks auto or N >= 1")
        if self.min_seconds <= 0 or self.target_seconds < self.min_seconds:
            raise ConfigError(f"chunk target {self.target_seconds} s is under the minimum {self.min_seconds} s",
                              hint="choose a target of at least the minimum chunk length")


@dataclass(frozen=True)
class Chunk:
    index: int  # 0-based
    start: float  # seconds on the output timeline (start_frame / fps)
    end: float  # seconds (end_frame / fps)
    first_segment_number: int  # 1-based, the whole-file number of the chunk's first segment
    segment_count: int
    start_frame: int  # first output frame (inclusive)
    end_frame: int  # one past the last output frame
    split_us: int  # hls_time for this chunk's muxer, microseconds
    last: bool = False  # runs to the end of the title (no frame pin)

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def segment_numbers(self) -> range:
        return range(self.first_segment_number, self.first_segment_number + self.segment_count)


def total_frames(duration: float, fps: Fraction) -> int:
    """Output frames of a constant-rate encode of `duration` seconds (the picture's, on the output timeline)."""
    return max(1, round(Fraction(duration) * fps))


def segment_starts(frames: int, segment_seconds: int, fps: Fraction) -> list[int]:
    """First frame of every whole-file segment: ceil(k*S*fps) while under `frames`."""
    starts = []
    k = 0
    while (first := math.ceil(k * segment_seconds * fps)) < frames:
        starts.append(first)
        k += 1
    return starts


def keyframe_frames(chunk: Chunk, gop_seconds: int, fps: Fraction) -> list[int]:
    """The chunk's keyframes as local frame numbers: the whole-file grid ceil(m*G*fps) inside the chunk."""
    m = max(0, math.floor((chunk.start_frame - 1) / (gop_seconds * fps)))  # at or before the first one
    out = []
    while (frame := math.ceil(m * gop_seconds * fps)) < chunk.end_frame:
        if frame >= chunk.start_frame:
            out.append(frame - chunk.start_frame)
        m += 1
    return out


def split_microseconds(starts: list[int], end: int, keyframes: list[int], fps: Fraction) -> int:
    """hls_time (µs) making the hls muxer cut at every local segment start in `starts` (starts[0] == 0)
    and nowhere else before the chunk's local `end` frame.

    The muxer cuts segment n at the first keyframe whose local time reaches n*hls_time. The largest
    µs value not past any boundary, min(T_n / n), is used; n*hls_time must also be past the keyframe
    before boundary n (and before the end), or no hls_time cuts this chunk like the whole file.
    """
    times = [Fraction(s) / fps for s in starts]
    if len(times) < 2:
        return 1_000_000 * 3600 * 24  # one segment: never cut
    split = math.floor(min(t / n for n, t in enumerate(times[1:], start=1)) * 1_000_000)
    key_times = [Fraction(k) / fps for k in keyframes]
    for n, boundary in enumerate([*times[1:], Fraction(end) / fps], start=1):
        threshold = Fraction(n * split, 1_000_000)
        before = [k for k in key_times if k < boundary]
        if before and threshold <= before[-1]:
            raise ConfigError(f"no hls_time cuts segment {n} of a chunk on the whole-file grid "
                              f"({len(times)} segments at {float(fps):.3f} fps)",
                              hint="use a shorter chunk target (fewer segments per chunk)")
    return split


def plan_chunks(duration: float, segment_seconds: int, gop_seconds: int, fps: Fraction,
                policy: ChunkPolicy = ChunkPolicy()) -> tuple[Chunk, ...]:
    """The chunks of a title `duration` seconds long (pure). Below the policy's threshold (auto): one chunk."""
    frames = total_frames(duration, fps)
    starts = segment_starts(frames, segment_seconds, fps)
    bounds = [*starts, frames]  # segment i spans frames bounds[i] .. bounds[i+1]

    def seconds(first_segment: int, end_segment: int) -> Fraction:
        return Fraction(bounds[end_segment] - bounds[first_segment]) / fps

    if policy.count is not None:
        count = policy.count
    elif duration <= policy.threshold_seconds:
        count = 1
    else:
        count = max(1, round(Fraction(frames) / fps / Fraction(policy.target_seconds)))
    count = min(count, len(starts))
    while True:
        sizes = [len(starts) // count + (1 if i < len(starts) % count else 0) for i in range(count)]
        edges = [sum(sizes[:i]) for i in range(count + 1)]
        short = [i for i in range(count) if seconds(edges[i], edges[i + 1]) < Fraction(policy.min_seconds)]
        if not short or count == 1:
            break
        if policy.count is not None:
            raise ConfigError(f"{policy.count} chunks of a {duration:.3f} s title would make chunk {short[0]} "
                              f"shorter than {policy.min_seconds:g} s",
                              hint="ask for fewer chunks (or --chunks auto)")
        count -= 1
    chunks = []
    for index in range(count):
        first, end = edges[index], edges[index + 1]
        start_frame, end_frame = bounds[first], bounds[end]
        local_starts = [s - start_frame for s in bounds[first:end]]
        chunk = Chunk(index=index, start=float(start_frame / fps), end=float(end_frame / fps),
                      first_segment_number=first + 1, segment_count=end - first, start_frame=start_frame,
                      end_frame=end_frame, split_us=0, last=index == count - 1)
        keys = keyframe_frames(chunk, gop_seconds, fps)
        split = split_microseconds(local_starts, end_frame - start_frame, keys, fps)
        chunks.append(dataclasses.replace(chunk, split_us=split))
    return tuple(chunks)

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

Pre-roll: every chunk but the first starts encoding `preroll_segments` whole segments early and drops
them (`Chunk.encode_start_frame`). x264's one-pass rate control starts every encode from a guess; without
a warm-up the first seconds of each chunk are visibly worse at low bitrates (measured on a 60 s 1080p
episode, 10 s chunks, veryfast: 234p lost 0.68 dB on a chunk; 2 s of pre-roll recovered 0.5 dB of it and
6 s all of it). The cost is one segment more of encoding per chunk.
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
    preroll_segments: int = 1  # encoded before each chunk (but the first) to warm up rate control, then dropped

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            raise ConfigError(f"chunk count {self.count} is not positive", hint="use --chunks auto or N >= 1")
        if not 0 <= self.preroll_segments <= 4:
            raise ConfigError(f"pre-roll of {self.preroll_segments} segments is out of range", hint="use 0 to 4")
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
    split_us: int  # hls_time for this chunk's muxer (from encode_start_frame), microseconds
    last: bool = False  # runs to the end of the title (no frame pin)
    encode_start_frame: int = -1  # where its encode starts (pre-roll); -1: at start_frame
    encode_first_segment_number: int = -1  # the whole-file number of the first segment encoded; -1: the first kept

    def __post_init__(self) -> None:
        if self.encode_start_frame < 0:
            object.__setattr__(self, "encode_start_frame", self.start_frame)
        if self.encode_first_segment_number < 0:
            object.__setattr__(self, "encode_first_segment_number", self.first_segment_number)

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def segment_numbers(self) -> range:
        return range(self.first_segment_number, self.first_segment_number + self.segment_count)

    @property
    def encode_frames(self) -> int:
        return self.end_frame - self.encode_start_frame

    @property
    def preroll_numbers(self) -> range:
        """Segments encoded only to warm up the encoder, removed before the stitch."""
        return range(self.encode_first_segment_number, self.first_segment_number)


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
    """The chunk's keyframes as frame numbers local to its encode (pre-roll included): the whole-file grid
    ceil(m*G*fps) inside it."""
    first = chunk.encode_start_frame
    m = max(0, math.floor((first - 1) / (gop_seconds * fps)))  # at or before the first one
    out = []
    while (frame := math.ceil(m * gop_seconds * fps)) < chunk.end_frame:
        if frame >= first:
            out.append(frame - first)
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
        encode_first = max(0, first - policy.preroll_segments)
        start_frame, end_frame, encode_start = bounds[first], bounds[end], bounds[encode_first]
        local_starts = [s - encode_start for s in bounds[encode_first:end]]
        chunk = Chunk(index=index, start=float(start_frame / fps), end=float(end_frame / fps),
                      first_segment_number=first + 1, segment_count=end - first, start_frame=start_frame,
                      end_frame=end_frame, split_us=0, last=index == count - 1, encode_start_frame=encode_start,
                      encode_first_segment_number=encode_first + 1)
        keys = keyframe_frames(chunk, gop_seconds, fps)
        split = split_microseconds(local_starts, end_frame - encode_start, keys, fps)
        chunks.append(dataclasses.replace(chunk, split_us=split))
    return tuple(chunks)

"""Timing rules (pure): keyframes, segment durations and total durations, over plain numbers.

The grid: with ``force_key_frames expr:gte(t,n_forced*G)`` the k-th keyframe is the first frame at or
after k*G seconds, i.e. at ``ceil(k*G*fps)/fps``; ffmpeg's hls muxer cuts a segment at the first
keyframe at or after k*S, so segment boundaries are ``ceil(k*S*fps)/fps``. For integer rates every
segment then lasts exactly S; for 23.976 or 29.97 most last ``ceil(S*fps)/fps`` and an occasional one a
frame less, which is the same grid, not an error. Times are compared within half a frame.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

from pipelines.errors import CheckResult
from pipelines.qc.verdict import seconds, verdict

AUDIO_SEGMENT_SLACK = 0.05  # an AAC frame boundary never lands exactly on the video's cut


def frame_seconds(fps: Fraction) -> float:
    return float(1 / fps)


def grid_time(index: int, step_seconds: int, fps: Fraction) -> float:
    """The index-th point of a step grid snapped up to the frame grid: ceil(index*step*fps)/fps."""
    return float(Fraction(math.ceil(index * step_seconds * fps), 1) / fps)


def keyframe_grid(gop_seconds: int, fps: Fraction, end: float) -> list[float]:
    """Every keyframe time the plan asks for on a rendition that ends (presentation end) at `end`."""
    half = frame_seconds(fps) / 2
    times = []
    index = 0
    while (t := grid_time(index, gop_seconds, fps)) < end - half:
        times.append(t)
        index += 1
    return times


def _nearest(sorted_times: Sequence[float], t: float) -> float | None:
    at = bisect.bisect_left(sorted_times, t)
    candidates = [sorted_times[i] for i in (at - 1, at) if 0 <= i < len(sorted_times)]
    return min(candidates, key=lambda c: abs(c - t), default=None)


def _frames(delta: float, fps: Fraction) -> str:
    return f"{delta * float(fps):+.1f} frames"


def check_keyframes_at_starts(name: str, starts: Sequence[tuple[str, float]], keyframes: Sequence[float],
                              fps: Fraction) -> CheckResult:
    """Every segment (uri, measured start) begins with a keyframe: one whose pts is within half a frame."""
    half = frame_seconds(fps) / 2
    ordered = sorted(keyframes)
    problems = []
    for uri, start in starts:
        near = _nearest(ordered, start)
        if near is None:
            problems.append(f"{uri} starts at {seconds(start)} and the rendition has no keyframe at all")
        elif abs(near - start) > half:
            problems.append(f"{uri} starts at {seconds(start)} but the nearest keyframe pts is "
                            f"{seconds(near)} ({_frames(near - start, fps)}; allowed ±0.5)")
    return verdict(name, problems, f"{len(starts)} segment starts, {len(ordered)} keyframes")


def check_keyframe_grid(name: str, keyframes: Sequence[float], gop_seconds: int, fps: Fraction,
                        end: float) -> CheckResult:
    """Keyframes exactly on the GOP grid: none missing, none extra (no scene-cut IDR)."""
    half = frame_seconds(fps) / 2
    grid = keyframe_grid(gop_seconds, fps, end)
    ordered = sorted(keyframes)
    missing = [t for t in grid if (n := _nearest(ordered, t)) is None or abs(n - t) > half]
    extra = [k for k in ordered if (n := _nearest(grid, k)) is None or abs(n - k) > half]
    problems = [f"no keyframe at {seconds(t)} (grid point {round(t / gop_seconds)} of every {gop_seconds} s)"
                for t in missing]
    problems += [f"keyframe off the {gop_seconds} s grid at {seconds(k)}" for k in extra]
    return verdict(name, problems, f"expected {len(grid)} keyframes every {gop_seconds} s at {fps} fps up "
                                   f"to {seconds(end)}, measured {len(ordered)}")


def check_keyframes_aligned(name: str, keyframes: Mapping[str, Sequence[float]], fps: Fraction) -> CheckResult:
    """Every rendition has the same keyframe times (within half a frame) as the first one listed."""
    items = list(keyframes.items())
    if not items:
        return verdict(name, [], "no video renditions")
    half = frame_seconds(fps) / 2
    ref_id, ref = items[0][0], sorted(items[0][1])
    problems = []
    for rid, times in items[1:]:
        mine = sorted(times)
        if len(mine) != len(ref):
            problems.append(f"{rid} has {len(mine)} keyframes, {ref_id} has {len(ref)}")
        differing = [(i, a, b) for i, (a, b) in enumerate(zip(mine, ref, strict=False)) if abs(a - b) > half]
        if differing:
            i, a, b = differing[0]
            problems.append(f"{rid} keyframe #{i + 1} at {seconds(a)}, {ref_id} at {seconds(b)} "
                            f"({len(differing)} differ)")
    return verdict(name, problems, f"{len(items)} renditions compared with {ref_id} ({len(ref)} keyframes)")


def check_video_segments(name: str, segments: Sequence[tuple[str, float]], segment_seconds: int,
                         fps: Fraction) -> CheckResult:
    """Each (uri, duration) but the last lasts its grid interval (≈ segment_seconds) within half a frame;
    the last lasts at most its interval."""
    half = frame_seconds(fps) / 2
    problems = []
    for index, (uri, duration) in enumerate(segments):
        expected = grid_time(index + 1, segment_seconds, fps) - grid_time(index, segment_seconds, fps)
        last = index == len(segments) - 1
        if (duration > expected + half) if last else (abs(duration - expected) > half):
            relation = "at most " if last else ""
            problems.append(f"{uri} lasts {duration:.6f} s, expected {relation}{expected:.6f} s "
                            f"({_frames(duration - expected, fps)})")
    nominal = grid_time(1, segment_seconds, fps)
    return verdict(name, problems, f"{len(segments)} segments of {nominal:.6f} s ({segment_seconds} s on the "
                                   f"{fps} fps frame grid), the last shorter or equal")


def check_audio_segments(name: str, segments: Sequence[tuple[str, float]], segment_seconds: int,
                         slack: float = AUDIO_SEGMENT_SLACK) -> CheckResult:
    """Each audio (uri, duration) lasts at most segment_seconds + slack."""
    limit = segment_seconds + slack
    problems = [f"{uri} lasts {duration:.6f} s, more than {limit:.3f} s" for uri, duration in segments
                if duration > limit]
    longest = max((d for _, d in segments), default=0.0)
    return verdict(name, problems, f"{len(segments)} segments, longest {longest:.6f} s, limit {limit:.3f} s")


def check_duration(name: str, measured: float, expected: float, tolerance: float, basis: str) -> CheckResult:
    """|measured − expected| ≤ tolerance; `basis` says what the expected value and the tolerance are."""
    delta = measured - expected
    problems = [] if abs(delta) <= tolerance else [
        f"measured {measured:.6f} s, expected {expected:.6f} s ({delta:+.6f} s, allowed ±{tolerance:.6f} s)"]
    return verdict(name, problems, f"measured {measured:.6f} s vs {expected:.6f} s ({basis}, "
                                   f"±{tolerance:.6f} s)")


def check_timeline_start(name: str, start: float, tolerance: float) -> CheckResult:
    """The first presented sample is at 0 (subtitles' X-TIMESTAMP-MAP and A/V sync assume it)."""
    problems = [] if abs(start) <= tolerance else [
        f"first pts is {start:.6f} s, expected 0 (allowed ±{tolerance:.6f} s)"]
    return verdict(name, problems, f"first pts {start:.6f} s (±{tolerance:.6f} s)")


def check_sync(name: str, track: tuple[float, float], picture: tuple[float, float], frame: float,
               unit: str) -> CheckResult:
    """A track (start, end) against the picture's (start, end): both within one of the track's own frames
    (`frame` seconds, e.g. 1024 / 48000 for AAC). A longer or shorter audio track is a timeline error: the
    encode pads or trims audio to the picture."""
    problems = []
    for edge, mine, theirs in (("starts", track[0], picture[0]), ("ends", track[1], picture[1])):
        delta = mine - theirs
        if abs(delta) > frame:
            problems.append(f"{edge} at {mine:.6f} s, the picture at {theirs:.6f} s ({delta:+.6f} s = "
                            f"{delta / frame:+.2f} {unit}s; allowed ±1)")
    return verdict(name, problems, f"start {track[0]:.6f} s / end {track[1]:.6f} s vs the picture's "
                                   f"{picture[0]:.6f} s / {picture[1]:.6f} s (±1 {unit}, {frame * 1000:.3f} ms)")

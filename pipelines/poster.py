"""The poster: one representative JPEG per title (`poster.jpg`), never a black or flat frame.

    choose_poster(candidates, duration) → FrameStats | None   (pure)
    poster_argv(ffmpeg=, segment=, frame=, width=, out=)        (pure)
    measure_argv(ffmpeg=, image=, stats=)                       (pure: the QC re-measure)

Candidates are the storyboard's sampled instants, measured at tile size during the storyboard pass (no extra
decode to choose). A candidate is *black* when its mean luma is under `BLACK_LUMA` and *flat* when its
10th..90th percentile luma range is under `FLAT_SPREAD` (a fade-in's first frames, slates, a blank card).
Among the rest, those away from the first and last 10 % of the title are preferred (openings fade in, credits
roll out), and the one with the highest luma entropy wins (the busiest, most detailed picture); ties go to
the earliest. The poster is then decoded from the top rung at that instant, capped at `POSTER_MAX_WIDTH`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipelines.storyboard import FrameStats

POSTER_NAME = "poster.jpg"
POSTER_MAX_WIDTH = 1280
BLACK_LUMA = 32.0  # YAVG below this (8-bit; limited-range black is 16, full-range 0) reads as black
FLAT_SPREAD = 12.0  # YHIGH − YLOW below this: one flat tone
EDGE_FRACTION = 0.1


def is_black(stats: FrameStats) -> bool:
    return stats.luma_mean < BLACK_LUMA


def is_flat(stats: FrameStats) -> bool:
    return stats.luma_spread < FLAT_SPREAD


def usable(stats: FrameStats) -> bool:
    return not is_black(stats) and not is_flat(stats)


def choose_poster(candidates: Sequence[FrameStats], duration: float) -> FrameStats | None:
    """The poster instant among `candidates`; None if there are none. With no usable candidate (an all-black
    title) the highest-entropy one is returned: the poster is then as good as the title allows."""
    if not candidates:
        return None
    good = [c for c in candidates if usable(c)]
    inner = [c for c in good if EDGE_FRACTION * duration <= c.time <= (1 - EDGE_FRACTION) * duration]
    pool = inner or good or list(candidates)
    return max(pool, key=lambda c: (c.entropy, -c.time))


def poster_width(rung_width: int) -> int:
    return min(rung_width, POSTER_MAX_WIDTH)


def poster_argv(*, ffmpeg: str, segment: Path, frame: int, width: int, height: int, out: Path) -> list[str]:
    """Decode `segment` (init + one media segment joined) up to its `frame`-th picture (0-based, decode
    order = display order: closed GOPs without B-pyramids across segments) and write it as a JPEG."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats",
            "-i", f"file:{segment}", "-map", "0:v:0",
            "-vf", f"select=eq(n\\,{frame}),scale={width}:{height}:flags=lanczos,setsar=1",
            "-frames:v", "1", "-fps_mode", "passthrough", "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "2",
            "-f", "image2", "-update", "1", f"file:{out}"]


def measure_argv(*, ffmpeg: str, image: Path, stats: Path) -> list[str]:
    """Measure one picture as the storyboard pass measures its tiles (signalstats + entropy), into `stats`."""
    escaped = str(stats).replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats",
            "-i", f"file:{image}", "-vf", f"format=yuv420p,signalstats,entropy,metadata=mode=print:file='{escaped}'",
            "-f", "null", "-"]

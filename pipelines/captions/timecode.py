"""SMPTE timecode at 29.97 frames/s (SCC's clock): labels ↔ frame numbers, drop-frame and non-drop.

Drop-frame (``;``) skips labels ;00 and ;01 at the start of every minute except each tenth (SMPTE ST 12-1),
so its labels track wall-clock time; non-drop (``:``) counts 30 labels a second and runs 0.1 % slow.
Either way frame n is shown at n × 1001/30000 s. Pure.
"""

from __future__ import annotations

from fractions import Fraction

NTSC_FPS = Fraction(30000, 1001)


def frame_of(hours: int, minutes: int, seconds: int, frames: int, *, drop_frame: bool) -> int:
    """The frame number a label names. Raises ValueError for a label that does not exist (frames ≥ 30,
    minutes or seconds ≥ 60, or a drop-frame label that is dropped, e.g. 00:01:00;00)."""
    if not (0 <= frames < 30 and 0 <= seconds < 60 and 0 <= minutes < 60 and hours >= 0):
        raise ValueError("frames must be 0-29, seconds and minutes 0-59")
    if drop_frame and seconds == 0 and frames < 2 and minutes % 10:
        raise ValueError(f"drop-frame skips ;{frames:02d} at the start of minute {minutes}")
    total_minutes = hours * 60 + minutes
    frame = (total_minutes * 60 + seconds) * 30 + frames
    return frame - 2 * (total_minutes - total_minutes // 10) if drop_frame else frame


def frame_seconds(frame: int) -> Fraction:
    """When frame `frame` of a 29.97 timeline is shown, in seconds (exact)."""
    return frame / NTSC_FPS


def snap(seconds: float, fps: Fraction) -> float:
    """The start of the frame nearest to `seconds` on a `fps` grid, to the millisecond (WebVTT's precision:
    a whole-millisecond value is written and read back by every reader alike, never rounded twice)."""
    return round(Fraction(round(Fraction(seconds) * fps)) / fps * 1000) / 1000

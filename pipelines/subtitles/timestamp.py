"""Timestamps: clock strings in and out, in integer milliseconds so no rounding ever carries to 60."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from pipelines.errors import SubtitleRejected

# [hours:]minutes:seconds[.,fraction] as SRT, WebVTT and ASS write them (hours optional, lax widths).
CLOCK = r"(?:\d{1,9}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,9})?"
_PARTS = re.compile(r"(?:(\d+):)?(\d+):(\d+)(?:[.,](\d+))?")


def parse_clock(text: str, *, source: str, where: str) -> float:
    """Seconds from "01:02:03,456", "02:03.5" or "1:02:03.45"; the fraction is decimal, so ".5"
    is 500 ms and ASS centiseconds need no special case."""
    match = _PARTS.fullmatch(text.strip())
    if match is None or int(match[2]) > 59 or int(match[3]) > 59:
        raise SubtitleRejected(
            source, f"{where}: timestamp {text.strip()!r} is not a valid clock time",
            hint="write times as HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (WebVTT)",
            code="subtitle_timestamp_invalid",
        )
    hours, minutes, secs, fraction = match.groups()
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
    return value + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def to_millis(seconds: float) -> int:
    """Half-up on the decimal the float prints as, so 0.0005 -> 1 and 2.675 -> 2675 (not 2674)."""
    return int((Decimal(repr(float(seconds))) * 1000).to_integral_value(rounding=ROUND_HALF_UP))


def format_timestamp(seconds: float) -> str:
    """WebVTT "HH:MM:SS.mmm" (hours grow past 99 if they must), rounded to the nearest millisecond."""
    millis = max(to_millis(seconds), 0)
    secs, millis = divmod(millis, 1000)
    minutes, secs = divmod(secs, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"

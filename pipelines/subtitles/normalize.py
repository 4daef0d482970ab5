"""Normalize: turn a parser's raw cues into a timeline players agree on.

Sorted by start (then end), non-empty, millisecond-exact and inside the media's duration. Overlapping
cues are kept as authored: WebVTT allows them and players show them together (W3C WebVTT §6.3 lays
simultaneous cues out one above the other), so cutting one short would lose the author's text. Only
exact duplicates (same times, text and placement) are merged. Text is never touched, so RTL marks and
bidi controls survive byte for byte. Cues sharing start, end and placement become one cue, their
texts in file order: two cues would be stacked bottom-up, the second above the first, reversing the
reading order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.cue import Cue, Placement
from pipelines.subtitles.limits import SubtitleLimits
from pipelines.subtitles.payload import visible_text
from pipelines.subtitles.timestamp import format_timestamp, to_millis


def check_limits(cues: Sequence[Cue], limits: SubtitleLimits, *, source: str) -> None:
    if len(cues) > limits.max_cues:
        raise SubtitleRejected(source, f"{len(cues)} cues, more than the limit of {limits.max_cues}",
                               hint="split the file or raise SubtitleLimits.max_cues",
                               code="subtitle_too_many_cues")
    for number, cue in enumerate(cues, start=1):
        if len(cue.text) > limits.max_line_chars:
            raise SubtitleRejected(source, f"cue {number} holds {len(cue.text)} characters of text, more than "
                                   f"{limits.max_line_chars}",
                                   hint="a cue this long is not a subtitle; check the file",
                                   code="subtitle_line_too_long")
        for value in (cue.start, cue.end):
            if not math.isfinite(value) or value < 0 or value > limits.max_timestamp:
                shown = format_timestamp(value) if math.isfinite(value) and value >= 0 else repr(value)
                raise SubtitleRejected(
                    source,
                    f"cue {number}: time {shown} is outside 0..{format_timestamp(limits.max_timestamp)}",
                    hint="check the file's timestamps (frame rate or offset errors)",
                    code="subtitle_timestamp_invalid",
                )


def normalize_cues(cues: Sequence[Cue], *, duration: float | None = None) -> tuple[Cue, ...]:
    """Drop empty and non-positive cues, sort by (start, end) keeping file order among equals, drop cues
    starting at/after ``duration`` and clamp those ending past it, then merge cues with the same
    times and placement (exact duplicates vanish; different texts are joined in file order)."""
    timed = sorted(
        ((to_millis(cue.start), to_millis(cue.end), order, cue) for order, cue in enumerate(cues)
         if visible_text(cue.text).strip() and to_millis(cue.end) > to_millis(cue.start)),
        key=lambda item: item[:3],
    )
    limit = to_millis(duration) if duration is not None else None
    merged: dict[tuple[int, int, Placement], list[str]] = {}
    for start, end, _, cue in timed:
        if limit is not None and start >= limit:
            break
        texts = merged.setdefault((start, min(end, limit) if limit is not None else end, cue.placement), [])
        if cue.text not in texts:
            texts.append(cue.text)
    return tuple(Cue(start / 1000, end / 1000, "\n".join(texts), placement)
                 for (start, end, placement), texts in merged.items())

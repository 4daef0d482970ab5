"""Normalize: turn a parser's raw cues into a timeline players agree on.

Sorted, non-empty, non-overlapping, millisecond-exact and inside the media's duration. Text is
never touched beyond merging duplicates, so RTL marks and bidi controls survive byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.cue import Cue
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
    """Drop empty and non-positive cues, merge same-start cues, end each cue where the next begins,
    then drop cues starting at/after ``duration`` and clamp those ending past it."""
    timed = sorted(
        ((to_millis(cue.start), to_millis(cue.end), cue.text) for cue in cues
         if visible_text(cue.text).strip() and to_millis(cue.end) > to_millis(cue.start)),
        key=lambda item: (item[0], item[1]),
    )
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, text in timed:
        if merged and merged[-1][0] == start:
            texts = merged[-1][2]
            if text not in texts:
                texts.append(text)
            merged[-1] = (start, max(end, merged[-1][1]), texts)
            continue
        if merged and merged[-1][1] > start:
            merged[-1] = (merged[-1][0], start, merged[-1][2])
        merged.append((start, end, [text]))
    limit = to_millis(duration) if duration is not None else None
    result: list[Cue] = []
    for start, end, texts in merged:
        if limit is not None and start >= limit:
            break
        clamped = min(end, limit) if limit is not None else end
        result.append(Cue(start / 1000, clamped / 1000, "\n".join(texts)))
    return tuple(result)

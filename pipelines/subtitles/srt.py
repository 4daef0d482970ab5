"""SRT (SubRip): the most common sidecar, and the least consistently written one.

Parsed line by line around timing lines rather than by blank-line blocks, so missing ids, missing
or doubled blank lines, "." millis and CR-only line ends all still work.
"""

from __future__ import annotations

import re

from pipelines.subtitles.cue import AUTO, Cue, Placement
from pipelines.subtitles.payload import from_html
from pipelines.subtitles.placement import SSA_ALIGNMENT, numpad
from pipelines.subtitles.timestamp import CLOCK, parse_clock

TIMING = re.compile(rf"[ \t]*({CLOCK})[ \t]*-->[ \t]*({CLOCK})(?:[ \t].*)?")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# SSA-style alignment that SRT authoring tools (Aegisub, Subtitle Edit) write at the start of a cue.
_ALIGNMENT = re.compile(r"\{[^{}]*?\\(an|a)(\d{1,2})[^{}]*\}")


def parse_srt(text: str, *, source: str = "<srt>") -> list[Cue]:
    """Cues in file order (normalisation sorts and repairs them later)."""
    cues: list[Cue] = []
    start = end = 0.0
    body: list[str] | None = None
    for number, line in enumerate(_NEWLINE.split(text), start=1):
        match = TIMING.fullmatch(line)
        if match is None:
            if body is not None:
                body.append(line)
            continue
        if body is not None:
            cues.append(_cue(start, end, "\n".join(_without_trailing_id(body))))
        where = f"line {number}"
        start = parse_clock(match[1], source=source, where=where)
        end = parse_clock(match[2], source=source, where=where)
        body = []
    if body is not None:
        cues.append(_cue(start, end, "\n".join(body)))
    return cues


def _cue(start: float, end: float, body: str) -> Cue:
    return Cue(start, end, from_html(body), srt_placement(body))


def srt_placement(body: str) -> Placement:
    """``{\\an8}`` (numpad) or legacy ``{\\a6}`` in the cue text: the first one decides."""
    match = _ALIGNMENT.search(body)
    if match is None:
        return AUTO
    value = int(match[2])
    return numpad(value if match[1] == "an" else SSA_ALIGNMENT.get(value, 2))


def _without_trailing_id(lines: list[str]) -> list[str]:
    """Drop the next cue's numeric id (the digit-only line right before its timing line) and the
    blank lines that the line scan collected as text."""
    if lines and lines[-1].strip().isdigit():
        lines = lines[:-1]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines

"""WebVTT input: already our output format, but still parsed so that its cues are checked and
re-normalised like any other sidecar (STYLE, NOTE and REGION blocks, settings and classes go)."""

from __future__ import annotations

import re

from pipelines.subtitles.cue import Cue
from pipelines.subtitles.payload import from_html
from pipelines.subtitles.timestamp import parse_clock

_BLOCKS = re.compile(r"(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SKIPPED = re.compile(r"(NOTE|STYLE|REGION)(?:[ \t]|$)")


def parse_vtt(text: str, *, source: str = "<vtt>") -> list[Cue]:
    cues: list[Cue] = []
    blocks = _BLOCKS.split(text)
    for index, block in enumerate(blocks[1:], start=2):  # block 1 is the WEBVTT header
        lines = _NEWLINE.split(block.strip("\r\n"))
        if _SKIPPED.match(lines[0]) and "-->" not in lines[0]:
            continue
        timing = next((n for n, line in enumerate(lines[:2]) if "-->" in line), None)
        if timing is None:
            continue  # a stray id or garbage block: WebVTT parsers skip it too
        where = f"block {index} ({lines[timing].strip()[:40]!r})"
        start_text, _, rest = lines[timing].partition("-->")
        start = parse_clock(start_text, source=source, where=where)
        end = parse_clock(next(iter(rest.split()), ""), source=source, where=where)
        cues.append(Cue(start, end, from_html("\n".join(lines[timing + 1:]))))
    return cues

"""WebVTT input: already our output format, but still parsed so that its cues are checked and
re-normalised like any other sidecar. Cue settings (line, position, align, size, region, vertical) and
``<c.class>`` spans are kept; REGION blocks are validated and carried, STYLE blocks carried as written
(their ``::cue`` rules style the kept classes); NOTE blocks go."""

from __future__ import annotations

import re

from pipelines.subtitles.cue import Cue, ParseNotes
from pipelines.subtitles.payload import from_html
from pipelines.subtitles.placement import parse_region, parse_settings
from pipelines.subtitles.timestamp import parse_clock

_BLOCKS = re.compile(r"(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SKIPPED = re.compile(r"(NOTE|STYLE|REGION)(?:[ \t]|$)")


# Carried blocks are repeated in every HLS segment file: a few kilobytes of CSS and a few regions are real,
# more is a sidecar trying to multiply the output's size (the rest is dropped and counted).
MAX_STYLE_CHARS = 16_384
MAX_REGIONS = 16


def parse_vtt(text: str, *, source: str = "<vtt>", notes: ParseNotes | None = None) -> list[Cue]:
    cues: list[Cue] = []
    notes = notes if notes is not None else ParseNotes()
    blocks = _BLOCKS.split(text)
    regions: set[str] = set()
    for index, block in enumerate(blocks[1:], start=2):  # block 1 is the WEBVTT header
        lines = _NEWLINE.split(block.strip("\r\n"))
        skipped = _SKIPPED.match(lines[0])
        if skipped and "-->" not in block:
            if skipped[1] == "REGION" and not cues and (region := parse_region(" ".join(lines[1:]))):
                if len(notes.regions) < MAX_REGIONS:
                    notes.regions.append(region)
                    regions.add(region.split()[0].removeprefix("id:"))
                else:
                    notes.dropped["region"] += 1
            elif skipped[1] == "STYLE" and not cues:
                if sum(map(len, notes.styles)) + len(block) <= MAX_STYLE_CHARS:
                    notes.styles.append("\n".join(lines[1:]))
                else:
                    notes.dropped["style"] += 1
            continue
        if skipped and "-->" not in lines[0]:
            continue
        timing = next((n for n, line in enumerate(lines[:2]) if "-->" in line), None)
        if timing is None:
            continue  # a stray id or garbage block: WebVTT parsers skip it too
        where = f"block {index} ({lines[timing].strip()[:40]!r})"
        start_text, _, rest = lines[timing].partition("-->")
        start = parse_clock(start_text, source=source, where=where)
        end = parse_clock(next(iter(rest.split()), ""), source=source, where=where)
        settings = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
        cues.append(Cue(start, end, from_html("\n".join(lines[timing + 1:])), parse_settings(settings, regions)))
    return cues

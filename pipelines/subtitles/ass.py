"""ASS/SSA (Advanced SubStation Alpha): anime and fansub sidecars.

Only [Events] matter: its Format line names the columns, Dialogue lines are cues, Text is the last
column and may hold commas. Override blocks are scanned with ``str.find`` (never a backtracking
regex), so a line flooded with ``{`` or tags costs linear time; only the first `MAX_TAGS_PER_CUE`
override tags of a cue are interpreted (a cue flooded with tags keeps its text, the rest of
its tags are dropped unread), so the work per cue is bounded too.
"""

from __future__ import annotations

import re

from pipelines.subtitles.cue import Cue
from pipelines.subtitles.payload import PayloadBuilder
from pipelines.subtitles.timestamp import parse_clock

_DEFAULT_FORMAT: tuple[str, ...] = (
    "layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text",
)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"(i|b|u|s|p)(\d*)")
_ESCAPES = re.compile(r"\\[Nnh]")
MAX_TAGS_PER_CUE = 64  # real cues carry a handful; karaoke lines a few dozen


def parse_ass(text: str, *, source: str = "<ass>") -> list[Cue]:
    cues: list[Cue] = []
    section = ""
    columns = _DEFAULT_FORMAT
    for number, raw in enumerate(_NEWLINE.split(text), start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        if section != "events":
            continue
        kind, _, value = line.partition(":")
        kind = kind.strip().lower()
        if kind == "format":
            columns = tuple(column.strip().lower() for column in value.split(","))
        elif kind == "dialogue" and "text" in columns:
            fields = dict(zip(columns, (part.strip() for part in value.split(",", len(columns) - 1)),
                              strict=False))
            where = f"line {number}"
            start = parse_clock(fields.get("start", ""), source=source, where=where)
            end = parse_clock(fields.get("end", ""), source=source, where=where)
            cues.append(Cue(start, end, ass_text(fields.get("text", ""))))
    return cues


def ass_text(text: str) -> str:
    r"""Dialogue text -> payload: \i and \b (and \u) become tags, \N \n newlines, \h a space,
    drawings (\p1 .. \p0) vanish, every other override is dropped."""
    builder = PayloadBuilder()
    drawing = False
    position = 0
    budget = MAX_TAGS_PER_CUE
    while position < len(text):
        opening = text.find("{", position)
        closing = text.find("}", opening + 1) if opening >= 0 else -1
        if closing < 0:  # no (complete) override block left: the rest is literal text
            opening = closing = len(text)
        if not drawing:
            builder.text(_ESCAPES.sub(_escape, text[position:opening]))
        if budget > 0:
            tags = text[opening + 1:closing].split("\\", budget + 1)[1:budget + 1]
            budget -= len(tags)
            for tag in tags:
                drawing = _apply(builder, tag.strip(), drawing=drawing)
        position = closing + 1
    return builder.finish()


def _escape(match: re.Match[str]) -> str:
    return " " if match[0] == "\\h" else "\n"


def _apply(builder: PayloadBuilder, tag: str, *, drawing: bool) -> bool:
    """Apply one override tag; returns the new drawing state."""
    if tag.startswith("r") and not tag.startswith("r("):
        builder.reset()
        return drawing
    match = _TAG.fullmatch(tag)
    if match is None:
        return drawing  # \pos, \fad, \blur, \bord, \an8, \iclip, ...: nothing WebVTT can say
    name, value = match[1], int(match[2][:6] or 0)
    if name == "p":
        return value > 0
    if name in {"i", "u"}:
        builder.style(name, value == 1)
    elif name == "b":
        builder.style("b", value == 1 or value >= 700)
    return drawing

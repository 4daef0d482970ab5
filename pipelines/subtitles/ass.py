"""ASS/SSA (Advanced SubStation Alpha): anime and fansub sidecars.

[Script Info] gives PlayResX/PlayResY (the coordinate space of ``\\pos``; 384x288 when absent, as
VSFilter and libass assume); [V4+ Styles]/[V4 Styles] give each style's alignment, italic, bold,
underline and primary colour; [Events] Dialogue lines are cues (Text is the last column and may hold
commas). Override blocks are scanned with ``str.find`` (never a backtracking regex), so a line flooded
with ``{`` or tags costs linear time; only the first `MAX_TAGS_PER_CUE` override tags of a cue are
interpreted (the rest are dropped unread), so the work per cue is bounded too.

Kept: ``\\i \\b \\u`` (tags), ``\\c``/``\\1c`` (a colour class), ``\\an``/``\\a`` and ``\\pos`` (cue
settings), and the style's MarginL/MarginR/MarginV or a Dialogue line's own (non-zero) margins for cues
without ``\\pos`` (`placement.margined`). Dropped and counted in ``ParseNotes.dropped``: karaoke timing
(``\\k \\K \\kf \\ko``; the syllables' text stays) and drawings (``\\p1`` .. ``\\p0``, vector commands rather
than text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipelines.subtitles.cue import Cue, ParseNotes, Placement
from pipelines.subtitles.payload import PayloadBuilder
from pipelines.subtitles.placement import SSA_ALIGNMENT, anchored, margined
from pipelines.subtitles.timestamp import parse_clock

_DEFAULT_FORMAT: tuple[str, ...] = (
    "layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text",
)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"(i|b|u|s|p)(\d*)")
_ALIGN = re.compile(r"(an|a)(\d{1,2})")
_POS = re.compile(r"pos\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")
_KARAOKE = re.compile(r"(?:k|K|kf|ko)\d")
_COLOUR = re.compile(r"1?c(?:&H([0-9A-Fa-f]{1,8})&?)?")
_ESCAPES = re.compile(r"\\[Nnh]")
MAX_TAGS_PER_CUE = 64  # real cues carry a handful; karaoke lines a few dozen
DEFAULT_PLAY_RES = (384.0, 288.0)


@dataclass(frozen=True)
class _Style:
    alignment: int = 2  # numpad
    italic: bool = False
    bold: bool = False
    underline: bool = False
    colour: str | None = None  # rrggbb
    margins: tuple[float, float, float] = (0.0, 0.0, 0.0)  # MarginL, MarginR, MarginV in PlayRes pixels


def parse_ass(text: str, *, source: str = "<ass>", notes: ParseNotes | None = None) -> list[Cue]:
    notes = notes if notes is not None else ParseNotes()
    cues: list[Cue] = []
    section = ""
    columns = _DEFAULT_FORMAT
    style_columns: tuple[str, ...] = ()
    styles: dict[str, _Style] = {}
    play_res = list(DEFAULT_PLAY_RES)
    for number, raw in enumerate(_NEWLINE.split(text), start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        kind, _, value = line.partition(":")
        kind = kind.strip().lower()
        if section == "script info" and kind in {"playresx", "playresy"}:
            try:
                number_value = float(value.strip())
            except ValueError:
                continue
            if 0 < number_value < 100_000:
                play_res[kind == "playresy"] = number_value
        elif section in {"v4+ styles", "v4 styles"}:
            if kind == "format":
                style_columns = tuple(column.strip().lower() for column in value.split(","))
            elif kind == "style" and style_columns:
                fields = dict(zip(style_columns, (part.strip() for part in value.split(",")), strict=False))
                styles[fields.get("name", "").lower()] = _style(fields, legacy=section == "v4 styles")
        elif section == "events":
            if kind == "format":
                columns = tuple(column.strip().lower() for column in value.split(","))
            elif kind == "dialogue" and "text" in columns:
                fields = dict(zip(columns, (part.strip() for part in value.split(",", len(columns) - 1)),
                                  strict=False))
                where = f"line {number}"
                start = parse_clock(fields.get("start", ""), source=source, where=where)
                end = parse_clock(fields.get("end", ""), source=source, where=where)
                style = styles.get(fields.get("style", "").lstrip("*").lower(), _Style())
                own = tuple(_pixels(fields.get(name, "")) for name in ("marginl", "marginr", "marginv"))
                style = replace(style, margins=tuple(  # type: ignore[arg-type]
                    mine or theirs for mine, theirs in zip(own, style.margins, strict=True)))  # 0: the style's
                payload, placement = ass_cue(fields.get("text", ""), style=style, play_res=tuple(play_res),
                                             notes=notes)
                cues.append(Cue(start, end, payload, placement))
    return cues


def _style(fields: dict[str, str], *, legacy: bool) -> _Style:
    def flag(name: str) -> bool:
        return fields.get(name, "0").strip() not in {"0", ""}

    try:
        alignment = int(fields.get("alignment", "2"))
    except ValueError:
        alignment = 2
    if legacy:
        alignment = SSA_ALIGNMENT.get(alignment, 2)
    colour = _bgr(fields.get("primarycolour", "").removeprefix("&H").removeprefix("&h").rstrip("&"))
    margins = (_pixels(fields.get("marginl", "")), _pixels(fields.get("marginr", "")),
               _pixels(fields.get("marginv", "")))
    return _Style(alignment=alignment if 1 <= alignment <= 9 else 2, italic=flag("italic"), bold=flag("bold"),
                  underline=flag("underline"), colour=colour, margins=margins)


def _pixels(value: str) -> float:
    """A margin column (whole PlayRes pixels, "0010" in old files); 0 for junk or a negative value."""
    try:
        number = float(value.strip())
    except ValueError:
        return 0.0
    return number if 0 < number < 100_000 else 0.0


def _bgr(value: str) -> str | None:
    """ASS colours are &H[AA]BBGGRR (hex); -> rrggbb."""
    if not re.fullmatch(r"[0-9A-Fa-f]{1,8}", value):
        return None
    digits = value.rjust(8, "0")[-6:]
    return (digits[4:6] + digits[2:4] + digits[0:2]).lower()


def ass_text(text: str) -> str:
    """Dialogue text -> payload (see `ass_cue`), without placement."""
    return ass_cue(text)[0]


def ass_cue(text: str, *, style: _Style = _Style(), play_res: tuple[float, ...] = DEFAULT_PLAY_RES,
            notes: ParseNotes | None = None) -> tuple[str, Placement]:
    r"""Dialogue text -> (payload, placement): \i \b \u become tags, \c a colour class, \N \n newlines,
    \h a space, \an/\a/\pos the placement, drawings (\p1 .. \p0) vanish, every other override is dropped."""
    notes = notes if notes is not None else ParseNotes()
    builder = PayloadBuilder()
    state = _State(alignment=style.alignment)
    for tag, on in (("i", style.italic), ("b", style.bold), ("u", style.underline)):
        if on:
            builder.style(tag, True)
    if style.colour is not None and style.colour != "ffffff":  # white is every renderer's default
        builder.colour(style.colour)
    position = 0
    budget = MAX_TAGS_PER_CUE
    while position < len(text):
        opening = text.find("{", position)
        closing = text.find("}", opening + 1) if opening >= 0 else -1
        if closing < 0:  # no (complete) override block left: the rest is literal text
            opening = closing = len(text)
        if not state.drawing:
            builder.text(_ESCAPES.sub(_escape, text[position:opening]))
        if budget > 0:
            tags = text[opening + 1:closing].split("\\", budget + 1)[1:budget + 1]
            budget -= len(tags)
            for tag in tags:
                _apply(builder, tag.strip(), state, notes)
        position = closing + 1
    if state.karaoke:
        notes.dropped["karaoke"] += state.karaoke
    if state.drawings:
        notes.dropped["drawing"] += state.drawings
    if state.pos is not None:
        x, y = state.pos
        placement = anchored(state.alignment, 100 * x / play_res[0], 100 * y / play_res[1])
    else:
        left, right, vertical = style.margins
        placement = margined(state.alignment, 100 * left / play_res[0], 100 * right / play_res[0],
                             100 * vertical / play_res[1])
    return builder.finish(), placement


@dataclass
class _State:
    alignment: int = 2
    pos: tuple[float, float] | None = None
    drawing: bool = False
    karaoke: int = 0
    drawings: int = 0
    aligned: bool = False  # the first \an/\a of a line wins (VSFilter, libass)


def _escape(match: re.Match[str]) -> str:
    return " " if match[0] == "\\h" else "\n"


def _apply(builder: PayloadBuilder, tag: str, state: _State, notes: ParseNotes) -> None:
    """Apply one override tag to the payload and the cue's state."""
    if tag.startswith("r") and not tag.startswith("r("):
        builder.reset()
        return
    if (align := _ALIGN.fullmatch(tag)) is not None:
        if not state.aligned:
            value = int(align[2])
            state.alignment = value if align[1] == "an" else SSA_ALIGNMENT.get(value, 2)
            state.aligned = True
        return
    if (pos := _POS.fullmatch(tag)) is not None:
        if state.pos is None:
            state.pos = (float(pos[1]), float(pos[2]))
        return
    if _KARAOKE.match(tag):
        state.karaoke += 1
        return
    if (colour := _COLOUR.fullmatch(tag)) is not None:
        builder.colour(_bgr(colour[1]) if colour[1] else None)
        return
    match = _TAG.fullmatch(tag)
    if match is None:
        return  # \fad, \blur, \bord, \iclip, ...: nothing WebVTT can say
    name, value = match[1], int(match[2][:6] or 0)
    if name == "p":
        if value > 0 and not state.drawing:
            state.drawings += 1
        state.drawing = value > 0
    elif name in {"i", "u"}:
        builder.style(name, value == 1)
    elif name == "b":
        builder.style("b", value == 1 or value >= 700)

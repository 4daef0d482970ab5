"""Placement: every source format's positioning, mapped onto WebVTT cue settings.

Sources of the rules: W3C WebVTT (§4.4 cue settings, §6.3 rendering), the ASS/SSA "\\an" numpad and
"\\pos" override tags (Aegisub manual; legacy SSA "\\a" numbering), and TTML2 §10.2 (tts:origin,
tts:extent, tts:textAlign, tts:displayAlign on regions).
"""

from __future__ import annotations

import dataclasses
import re

from pipelines.subtitles.cue import AUTO, Placement

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)%")
_LINE = re.compile(r"(-?\d{1,4}|\d{1,3}(?:\.\d+)?%)(?:,(start|center|end))?")
_POSITION = re.compile(r"(\d{1,3}(?:\.\d+)?)%(?:,(line-left|center|line-right))?")
_ALIGNS = {"start", "center", "end", "left", "right", "middle"}
_REGION_ID = re.compile(r"[^\s]{1,64}")
# Legacy SSA \a: 1-3 bottom, +4 top (5-7), +8 middle (9-11) -> the V4+ numpad.
SSA_ALIGNMENT = {1: 1, 2: 2, 3: 3, 5: 7, 6: 8, 7: 9, 9: 4, 10: 5, 11: 6}
_COLUMN = {0: ("left", "line-left"), 1: ("", "center"), 2: ("right", "line-right")}
# ASS margins up to this share of the frame (percent) are the safe-area padding every renderer adds on its own
# (Aegisub's default style: 10 px of 1080); larger ones are where the author wanted the text.
MARGIN_PADDING = 5.0


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 100.0)


def numpad(alignment: int) -> Placement:
    """ASS ``\\an1``..``\\an9`` (keypad layout: 7 8 9 top, 4 5 6 middle, 1 2 3 bottom) without ``\\pos``."""
    if not 1 <= alignment <= 9:
        return AUTO
    row, column = divmod(alignment - 1, 3)
    align = _COLUMN[column][0]
    if row == 2:  # top: the first line slot from the top, as a renderer does for bottom cues from below
        return Placement(line=0, line_percent=False, align=align)
    if row == 1:
        return Placement(line=50, line_align="center", align=align)
    return Placement(align=align)


def margined(alignment: int, left: float, right: float, vertical: float) -> Placement:
    """ASS ``\\anN`` without ``\\pos`` inside margins (percent of PlayResX/PlayResY), as libass and VSFilter lay
    it out: the text box spans [MarginL, 100 % − MarginR]; a bottom row sits MarginV above the bottom edge, a
    top row MarginV below the top edge, a middle row is centred (MarginV unused). WebVTT: the box's width is
    ``size``, its left edge / centre / right edge the ``position`` (by the column), the row's edge the ``line``.
    Margins within `MARGIN_PADDING` are left to the renderer (the `numpad` placement)."""
    base = numpad(alignment)
    if not 1 <= alignment <= 9:
        return base
    row, column = divmod(alignment - 1, 3)
    fields: dict[str, object] = {}
    if left > MARGIN_PADDING or right > MARGIN_PADDING:
        left, right = _clamp(left), _clamp(right)
        width = _clamp(100 - left - right)
        align, position_align = _COLUMN[column]
        position = (left, left + width / 2, 100 - right)[column]
        fields.update(position=round(position, 2), position_align=position_align, size=round(width, 2) or None,
                      align=align or "center")
    if vertical > MARGIN_PADDING and row != 1:
        line = 100 - _clamp(vertical) if row == 0 else _clamp(vertical)
        fields.update(line=round(line, 2), line_percent=True, line_align="end" if row == 0 else "start")
    return dataclasses.replace(base, **fields) if fields else base  # type: ignore[arg-type]


def anchored(alignment: int, x: float, y: float) -> Placement:
    """ASS ``\\pos(x,y)`` with ``\\anN``: the cue's ``N`` anchor point at (x, y) percent of the frame."""
    row, column = divmod((alignment if 1 <= alignment <= 9 else 2) - 1, 3)
    align, position_align = _COLUMN[column]
    return Placement(line=round(_clamp(y), 2), line_align=("end", "center", "start")[row],
                     position=round(_clamp(x), 2), position_align=position_align, align=align or "center")


def boxed(x: float, y: float, width: float, height: float, text_align: str, display_align: str) -> Placement:
    """A TTML region box (origin x, y and extent width, height in percent) with its text and display
    alignment: the cue box takes the region's width; its lines stack from the region's top (before),
    middle (center) or bottom (after)."""
    align = {"left": "left", "right": "right", "center": "center", "start": "start", "end": "end"}.get(
        text_align, "start")
    if align in {"left", "start"}:
        position, position_align = x, "line-left"
    elif align in {"right", "end"}:
        position, position_align = x + width, "line-right"
    else:
        position, position_align = x + width / 2, "center"
    if display_align == "after":
        line, line_align = y + height, "end"
    elif display_align == "center":
        line, line_align = y + height / 2, "center"
    else:
        line, line_align = y, "start"
    return Placement(line=round(_clamp(line), 2), line_align=line_align, position=round(_clamp(position), 2),
                     position_align=position_align, size=round(_clamp(width), 2) or None, align=align)


def parse_settings(text: str, regions: set[str] | None = None) -> Placement:
    """WebVTT cue settings ("line:0 position:10%,line-left align:start size:50% region:r1"); an invalid
    setting is ignored, as the WebVTT parser does (§6.1 "parse the WebVTT cue settings")."""
    fields: dict[str, object] = {}
    for token in text.split():
        name, sep, value = token.partition(":")
        if not sep or not value:
            continue
        if name == "line" and (match := _LINE.fullmatch(value)):
            percent = match[1].endswith("%")
            fields.update(line=float(match[1].rstrip("%")), line_percent=percent,
                          line_align=(match[2] or "") if percent else "")
            if percent and float(match[1].rstrip("%")) > 100:
                del fields["line"]
        elif name == "position" and (match := _POSITION.fullmatch(value)) and float(match[1]) <= 100:
            fields.update(position=float(match[1]), position_align=match[2] or "")
        elif name == "size" and (match := _PERCENT.fullmatch(value)) and float(match[1]) <= 100:
            fields["size"] = float(match[1])
        elif name == "align" and value in _ALIGNS:
            fields["align"] = "center" if value == "middle" else value
        elif name == "vertical" and value in {"rl", "lr"}:
            fields["vertical"] = value
        elif name == "region" and _REGION_ID.fullmatch(value) and "-->" not in value and (
                regions is None or value in regions):
            fields["region"] = value
    return Placement(**fields) if fields else AUTO  # type: ignore[arg-type]


_REGION_SETTINGS = {
    "id": _REGION_ID,
    "width": _PERCENT,
    "lines": re.compile(r"\d{1,3}"),
    "regionanchor": re.compile(r"\d{1,3}(?:\.\d+)?%,\d{1,3}(?:\.\d+)?%"),
    "viewportanchor": re.compile(r"\d{1,3}(?:\.\d+)?%,\d{1,3}(?:\.\d+)?%"),
    "scroll": re.compile(r"up"),
}


def parse_region(block: str) -> str | None:
    """A WebVTT REGION block's settings, validated and re-serialised ("id:r1 width:40% lines:3"); None
    without a valid id."""
    kept: dict[str, str] = {}
    for token in block.split():
        name, sep, value = token.partition(":")
        pattern = _REGION_SETTINGS.get(name)
        if sep and pattern is not None and pattern.fullmatch(value) and "-->" not in value:
            kept[name] = value
    if "id" not in kept:
        return None
    return " ".join(f"{name}:{value}" for name, value in sorted(kept.items(), key=lambda kv: kv[0] != "id"))

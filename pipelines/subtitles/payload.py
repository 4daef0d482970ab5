"""Payload: build a WebVTT cue payload from text runs and style switches, whatever the source markup.

Every parser reports plain text, newlines and on/off switches for italic, bold and underline; this
builder alone escapes ``& < >``, keeps the tags properly nested and balanced (ASS may switch styles
in any order), and drops blank lines, which would end a cue in WebVTT.
"""

from __future__ import annotations

import html
import re

STYLE_TAGS = ("i", "b", "u")
# WebVTT's default text colour classes (W3C WebVTT §5.1 "default classes"), as RGB.
NAMED_COLOURS = {"white": "ffffff", "lime": "00ff00", "cyan": "00ffff", "red": "ff0000", "yellow": "ffff00",
                 "magenta": "ff00ff", "blue": "0000ff", "black": "000000"}
_BY_RGB = {rgb: name for name, rgb in NAMED_COLOURS.items()}
_CSS_NAMES = {**NAMED_COLOURS, "green": "008000", "aqua": "00ffff", "fuchsia": "ff00ff", "gray": "808080",
              "grey": "808080", "silver": "c0c0c0", "maroon": "800000", "olive": "808000", "navy": "000080",
              "purple": "800080", "teal": "008080", "orange": "ffa500"}
_HEX = re.compile(r"#?([0-9a-fA-F]{6})(?:[0-9a-fA-F]{2})?")
_RGB_FUNCTION = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})(?:\s*,[^)]*)?\)")
_CLASS = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_CLASS_IN_PAYLOAD = re.compile(r"<c((?:\.[A-Za-z0-9_-]+)+)>")

# An HTML-ish tag (SRT, WebVTT), a WebVTT timestamp tag, a character reference, or an SSA-style
# "{\an8}" block. Each alternative stops at the next "<" or "{", so scanning stays linear.
_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<tag>[A-Za-z][A-Za-z0-9]*)(?P<rest>[^<>]*)>"
    r"|<[0-9][0-9:.]*>"
    r"|(?P<ref>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    r"|\{\\[^{}]*\}"
)


class PayloadBuilder:
    """Accumulates one cue's payload; ``finish()`` returns "" when nothing visible was added."""

    def __init__(self) -> None:
        self._out: list[str] = []
        self._open: list[str] = []
        self._visible = False

    @property
    def open_tags(self) -> tuple[str, ...]:
        return tuple(self._open)

    def text(self, run: str) -> None:
        if not run:
            return
        lines = run.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for index, line in enumerate(lines):
            if index:
                self._out.append("\n")
            if line:
                self._out.append(line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
                self._visible = self._visible or not line.isspace()

    def newline(self) -> None:
        self._out.append("\n")

    def style(self, tag: str, on: bool) -> None:
        """Switch a style; redundant switches are ignored, crossed ones re-nested."""
        if on:
            if tag not in self._open:
                self._open.append(tag)
                self._out.append(f"<{tag}>")
            return
        if tag not in self._open:
            return
        reopen = self._open[self._open.index(tag) + 1:]
        for inner in [*reversed(reopen), tag]:
            self._close(inner)
        for inner in reopen:
            self.style(inner, True)

    def colour(self, rgb: str | None) -> None:
        """Switch the text colour (6 hex digits, or None for the default): one ``<c.class>`` span at a time."""
        for tag in [t for t in self._open if t.startswith("c.")]:
            self.style(tag, False)
        if rgb is not None:
            self.style("c." + colour_class(rgb), True)

    def reset(self) -> None:
        for tag in reversed(list(self._open)):
            self._close(tag)

    def _close(self, tag: str) -> None:
        self._open.remove(tag)
        if self._out and self._out[-1] == f"<{tag}>":
            self._out.pop()  # nothing inside: drop the empty pair
        else:
            self._out.append(f"</{tag.partition('.')[0]}>")

    def finish(self) -> str:
        self.reset()
        if not self._visible:
            return ""
        lines = (line.strip() for line in "".join(self._out).split("\n"))
        return "\n".join(line for line in lines if line)


def colour_class(rgb: str) -> str:
    """The WebVTT class for a colour: its default class name ("red") or "rgb_rrggbb"."""
    rgb = rgb.lower()
    return _BY_RGB.get(rgb, f"rgb_{rgb}")


def parse_colour(value: str) -> str | None:
    """6 lower-case hex digits from a CSS/TTML colour ("#ff0000", "#ff0000ff", "red", "rgb(255,0,0)")."""
    value = value.strip().lower()
    if value in _CSS_NAMES:
        return _CSS_NAMES[value]
    if match := _HEX.fullmatch(value):
        return match[1].lower()
    if (match := _RGB_FUNCTION.fullmatch(value)) and all(int(n) < 256 for n in match.groups()):
        return "".join(f"{int(n):02x}" for n in match.groups())
    return None


def classes_in(payload: str) -> set[str]:
    return {name for match in _CLASS_IN_PAYLOAD.finditer(payload) for name in match[1].split(".") if name}


def stylesheet(classes: set[str]) -> str:
    """``::cue(.class)`` rules giving every colour class its colour (STYLE block body; "" if none)."""
    rules = []
    for name in sorted(classes):
        rgb = NAMED_COLOURS.get(name) or (name[4:] if re.fullmatch(r"rgb_[0-9a-f]{6}", name) else None)
        if rgb is not None:
            rules.append(f"::cue(.{name}) {{ color: #{rgb}; }}")
        background = NAMED_COLOURS.get(name.removeprefix("bg_")) if name.startswith("bg_") else None
        if background is not None:
            rules.append(f"::cue(.{name}) {{ background-color: #{background}; }}")
    return "\n".join(rules)


def from_html(source: str) -> str:
    """SRT/WebVTT cue text -> payload: <i>/<b>/<u> kept, <c.classes> kept, <font color> as a colour class,
    other tags, ruby
    annotations, timestamps and ``{\\an8}`` blocks removed, character references decoded."""
    builder = PayloadBuilder()
    in_ruby_text = False
    position = 0
    for match in _MARKUP.finditer(source):
        if not in_ruby_text:
            builder.text(source[position:match.start()])
        position = match.end()
        if match["ref"]:
            if not in_ruby_text:
                builder.text(html.unescape(match["ref"]))
            continue
        tag = (match["tag"] or "").lower()
        if tag in STYLE_TAGS:
            builder.style(tag, not match["close"])
        elif tag == "c":
            _class_span(builder, match["rest"] or "", closing=bool(match["close"]))
        elif tag == "font":
            colour = _FONT_COLOUR.search(match["rest"] or "")
            rgb = parse_colour(colour[1]) if colour else None
            if match["close"] or rgb is not None:
                builder.colour(None if match["close"] else rgb)
        elif tag == "rt":
            in_ruby_text = not match["close"]
        elif tag == "br":
            builder.newline()
    if not in_ruby_text:
        builder.text(source[position:])
    return builder.finish()


_FONT_COLOUR = re.compile(r"""color\s*=\s*["']?([#\w(),. ]+?)["']?(?:\s|$)""", re.IGNORECASE)


def _class_span(builder: PayloadBuilder, rest: str, *, closing: bool) -> None:
    """WebVTT ``<c.a.b>``: kept with its (well-formed) classes; a bare ``<c>`` carries nothing."""
    if closing:
        for tag in [t for t in builder.open_tags if t.startswith("c.")][-1:]:
            builder.style(tag, False)
        return
    names = [name for name in rest.split(".")[1:] if _CLASS.fullmatch(name)] if rest.startswith(".") else []
    if names:
        builder.style("c." + ".".join(names[:8]), True)


def visible_text(payload: str) -> str:
    """The payload without its tags, for emptiness and script checks."""
    return html.unescape(re.sub(r"</?[a-z]+(?:\.[A-Za-z0-9_-]+)*>", "", payload))

"""Payload: build a WebVTT cue payload from text runs and style switches, whatever the source markup.

Every parser reports plain text, newlines and on/off switches for italic, bold and underline; this
builder alone escapes ``& < >``, keeps the tags properly nested and balanced (ASS may switch styles
in any order), and drops blank lines, which would end a cue in WebVTT.
"""

from __future__ import annotations

import html
import re

STYLE_TAGS = ("i", "b", "u")

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

    def reset(self) -> None:
        for tag in reversed(list(self._open)):
            self._close(tag)

    def _close(self, tag: str) -> None:
        self._open.remove(tag)
        if self._out and self._out[-1] == f"<{tag}>":
            self._out.pop()  # nothing inside: drop the empty pair
        else:
            self._out.append(f"</{tag}>")

    def finish(self) -> str:
        self.reset()
        if not self._visible:
            return ""
        lines = (line.strip() for line in "".join(self._out).split("\n"))
        return "\n".join(line for line in lines if line)


def from_html(source: str) -> str:
    """SRT/WebVTT cue text -> payload: <i>/<b>/<u> kept (classes dropped), other tags, ruby
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
        elif tag == "rt":
            in_ruby_text = not match["close"]
        elif tag == "br":
            builder.newline()
    if not in_ruby_text:
        builder.text(source[position:])
    return builder.finish()


def visible_text(payload: str) -> str:
    """The payload without its tags, for emptiness and script checks."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", payload))

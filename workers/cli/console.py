"""Console: a live progress line for people at a terminal, plain phase lines for logs and CI."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from pipelines.transcode import Event

_BAR = 28


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def render_line(event: Event) -> str:
    """One status line (pure)."""
    p = event.progress
    if event.phase != "encoding" or p is None or p.percent is None:
        return "done" if event.phase == "done" else f"{event.phase}…"
    filled = round(_BAR * p.percent / 100)
    speed = f"{p.speed:.2f}x" if p.speed else "  ?x"
    return f"encoding [{'#' * filled}{'.' * (_BAR - filled)}] {p.percent:5.1f}%  {speed}  ETA {format_eta(p.eta)}"


class ProgressPrinter:
    """Redraws one line on a TTY; elsewhere prints each phase and every 10 % of the encode."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last_phase = ""
        self._last_decile = -1
        self._last_draw = 0.0

    def __call__(self, event: Event) -> None:
        if self._tty:
            now = time.monotonic()
            if event.phase == self._last_phase and now - self._last_draw < 0.2 and event.phase == "encoding":
                return
            self._last_draw = now
            self._stream.write("\r\033[K" + render_line(event))
            if event.phase == "done":
                self._stream.write("\n")
        else:
            decile = int(event.progress.percent // 10) if event.progress and event.progress.percent else -1
            if event.phase != self._last_phase or decile > self._last_decile:
                self._stream.write(render_line(event) + "\n")
                self._last_decile = decile if event.phase == "encoding" else -1
        self._last_phase = event.phase
        self._stream.flush()

"""ffmpeg ``-progress`` output (key=value lines, blocks ended by ``progress=continue|end``) → Progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    out_time: float  # seconds of output written so far
    frame: int | None
    speed: float | None  # × realtime, as ffmpeg reports it
    percent: float | None  # 0..100 when the total duration is known
    eta: float | None  # seconds left at the current speed
    done: bool = False


def parse_block(fields: dict[str, str], duration: float | None) -> Progress:
    """One block of ``-progress`` fields → Progress (pure; tolerant of N/A and missing keys)."""
    out_time = _seconds(fields)
    frame = _int(fields.get("frame"))
    speed = _float(fields.get("speed", "").rstrip("x"))
    done = fields.get("progress") == "end"
    percent = eta = None
    if duration and duration > 0:
        percent = 100.0 if done else max(0.0, min(100.0, out_time / duration * 100))
        if speed and speed > 0:
            eta = 0.0 if done else max(0.0, (duration - out_time) / speed)
    return Progress(out_time, frame, speed, percent, eta, done)


class ProgressParser:
    """Feeds lines, emits a Progress at each block end (stateful; one per process)."""

    def __init__(self, duration: float | None, sink: Callable[[Progress], None]) -> None:
        self._duration = duration
        self._sink = sink
        self._fields: dict[str, str] = {}

    def feed(self, line: str) -> None:
        key, sep, value = line.partition("=")
        if not sep:
            return
        self._fields[key.strip()] = value.strip()
        if key.strip() == "progress":
            self._sink(parse_block(self._fields, self._duration))
            self._fields = {}


def _seconds(fields: dict[str, str]) -> float:
    # out_time_us is exact; out_time_ms is (despite its name) also microseconds; out_time is H:M:S.us
    for key in ("out_time_us", "out_time_ms"):
        value = _float(fields.get(key))
        if value is not None and value >= 0:
            return value / 1_000_000
    text = fields.get("out_time", "")
    parts = text.split(":")
    if len(parts) == 3:
        h, m, s = (_float(p) for p in parts)
        if h is not None and m is not None and s is not None:
            return max(0.0, h * 3600 + m * 60 + s)
    return 0.0


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    value = _float(text)
    return int(value) if value is not None else None

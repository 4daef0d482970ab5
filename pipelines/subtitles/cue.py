"""Cue and SubtitleDocument: what every sidecar format is reduced to before WebVTT is written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One timed caption; ``text`` is already a WebVTT cue payload (escaped, only <i>, <b>, <u>)."""

    start: float  # seconds on the media timeline
    end: float
    text: str  # lines joined by "\n", never a blank line


@dataclass(frozen=True)
class SubtitleDocument:
    language: str  # canonical BCP-47 ("ko", "zh-Hant")
    cues: tuple[Cue, ...]
    source_format: str  # "srt" | "vtt" | "ass" | "ttml"
    charset: str  # the codec the sidecar was decoded with ("utf-8", "cp949", ...)

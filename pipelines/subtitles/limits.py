"""SubtitleLimits: caps that keep a hostile or broken sidecar from costing memory or time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubtitleLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_cues: int = 100_000
    max_line_chars: int = 10_000  # a longer line is rejected, never truncated
    max_timestamp: float = 24 * 3600.0
    max_xml_elements: int = 100_000  # TTML: a parsed element costs ~0.5 KB; 100k is ~10x a feature film
    max_xml_depth: int = 64  # TTML nesting (tt/body/div/p/span...): real files use < 10

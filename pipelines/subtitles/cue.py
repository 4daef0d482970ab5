"""Cue, Placement and SubtitleDocument: what every sidecar format is reduced to before WebVTT is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


def _number(value: float) -> str:
    return f"{round(value, 3):g}"


@dataclass(frozen=True)
class Placement:
    """Where a cue is drawn, as WebVTT cue settings (W3C WebVTT §4.4 "cue settings", §6.3 rendering).

    Percentages are of the video viewport (0..100). Every field left at its default means "auto":
    the renderer's bottom-centre line, which is where a cue without positioning goes.
    """

    line: float | None = None  # a percentage (``line_percent``) or a line number (0 = top, -1 = bottom)
    line_percent: bool = True
    line_align: str = ""  # "" | "start" | "center" | "end" (percent lines only)
    position: float | None = None  # percent
    position_align: str = ""  # "" (auto) | "line-left" | "center" | "line-right"
    align: str = ""  # "" (center) | "start" | "center" | "end" | "left" | "right"
    size: float | None = None  # percent of the viewport width
    region: str = ""  # a REGION id of the same document
    vertical: str = ""  # "" | "rl" | "lr"

    def settings(self) -> str:
        """The cue settings list for the timing line ("" when everything is auto)."""
        parts = []
        if self.vertical:
            parts.append(f"vertical:{self.vertical}")
        if self.line is not None:
            value = f"{_number(self.line)}%" if self.line_percent else str(int(self.line))
            parts.append("line:" + value + (f",{self.line_align}" if self.line_align and self.line_percent else ""))
        if self.position is not None:
            parts.append(f"position:{_number(self.position)}%"
                         + (f",{self.position_align}" if self.position_align else ""))
        if self.size is not None:
            parts.append(f"size:{_number(self.size)}%")
        if self.align:
            parts.append(f"align:{self.align}")
        if self.region:
            parts.append(f"region:{self.region}")
        return " ".join(parts)


AUTO = Placement()


@dataclass(frozen=True)
class Cue:
    """One timed caption; ``text`` is already a WebVTT cue payload (escaped; only <i>, <b>, <u> and
    <c.class> spans)."""

    start: float  # seconds on the media timeline
    end: float
    text: str  # lines joined by "\n", never a blank line
    placement: Placement = AUTO


@dataclass
class ParseNotes:
    """What a parser found beside the cues: WebVTT REGION definitions and STYLE sheets to carry, and
    the author's markup that WebVTT cannot say, counted by kind ("karaoke", "drawing")."""

    regions: list[str] = field(default_factory=list)  # REGION settings lines, e.g. "id:r1 width:40%"
    styles: list[str] = field(default_factory=list)  # STYLE block bodies (CSS with ::cue selectors)
    dropped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class SubtitleDocument:
    language: str  # canonical BCP-47 ("ko", "zh-Hant")
    cues: tuple[Cue, ...]
    source_format: str  # "srt" | "vtt" | "ass" | "ttml"
    charset: str  # the codec the sidecar was decoded with ("utf-8", "cp949", ...)
    charset_reason: str = ""  # why that codec (decode.decide_charset), for report.json
    regions: tuple[str, ...] = ()  # WebVTT REGION settings lines the cues' ``region:`` refer to
    styles: tuple[str, ...] = ()  # WebVTT STYLE bodies carried from a WebVTT source
    dropped: tuple[tuple[str, int], ...] = ()  # (kind, count) of markup left out, for report.json
    forced: bool = False  # a forced-narrative track (HLS FORCED=YES, DASH Role forced-subtitle)
    channel: str = ""  # the caption channel / service decoded into it ("CC1", "SERVICE1"), named in its label
    sdh: bool = False  # subtitles for the deaf and hard of hearing (HLS CHARACTERISTICS, DASH Accessibility)

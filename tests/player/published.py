"""The one output the browser tests play, and what its source says (the players are compared with this)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediagen import make_source

from pipelines.options import PlanOptions
from pipelines.transcode import Sidecar, TranscodeRequest, transcode


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str

    @property
    def middle(self) -> float:
        return round((self.start + self.end) / 2, 3)


# Same timings in every language, different scripts; the second cue crosses the 4 s segment boundary.
CUES: dict[str, tuple[Cue, ...]] = {
    "ko": (Cue(1.2, 2.9, "안녕하세요, 세계"), Cue(3.5, 5.24, "두 번째 자막입니다")),
    "ar": (Cue(1.2, 2.9, "مرحبا بالعالم"), Cue(3.5, 5.24, "هذه هي الترجمة الثانية")),
    "en": (Cue(1.2, 2.9, "Hello, world"), Cue(3.5, 5.24, "The second subtitle")),
}
# mediagen gives audio stream N a sine at 440 + 220·N Hz, so the players' decoded audio tells the tracks apart.
AUDIO_HZ = {"en": 440.0, "es": 660.0}
RUNGS = {"234p": (416, 234), "360p": (640, 360)}  # the default ladder fitted to a 640x360 source
DURATION = 8.0
SEGMENT = 2.0  # seconds: the published output's segment_seconds
FRAME = 0.04  # one frame at 25 fps


def held_pieces(cue: Cue, mode: str, segment: float) -> list[tuple[float, float, float]]:
    """(seek to, expected start, end) of the cue as the player holds it. HLS WebVTT segments repeat a cue
    crossing a segment cut with its own times. DASH text is WebVTT in ISO-BMFF (ISO/IEC 14496-30): a cue
    crossing a cut is one sample piece per segment, so Shaka holds the piece of the segment it is in; the
    piece before the cut ends where the next begins, so the text stays on screen across it."""
    if mode != "shaka-dash":
        return [(cue.middle, cue.start, cue.end)]
    cut = math.floor(cue.middle / segment) * segment
    pieces = [(cue.middle, max(cue.start, cut), min(cue.end, cut + segment))]
    if cue.start < cut:  # and the piece just before the cut
        pieces.append((round(cut - FRAME, 3), cue.start, cut))
    return pieces


def _timestamp(seconds: float, decimal: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{decimal}{ms % 1000:03d}"


def write_srt(path: Path, cues: tuple[Cue, ...]) -> Path:
    path.write_text("".join(f"{n}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{c.text}\n\n"
                            for n, c in enumerate(cues, 1)), encoding="utf-8")
    return path


def write_vtt(path: Path, cues: tuple[Cue, ...]) -> Path:
    path.write_text("WEBVTT\n\n" + "".join(f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{c.text}\n\n"
                                           for c in cues), encoding="utf-8")
    return path


def publish(work: Path) -> Path:
    """640x360 8 s source, audio en + es, subtitles ko (SRT), ar (WebVTT), en (SRT) → OUT (2 s segments, draft)."""
    source = make_source(work / "source.mp4", width=640, height=360, duration=DURATION, audio=("eng", "spa"))
    sidecars = (Sidecar("ko", write_srt(work / "ko.srt", CUES["ko"])),
                Sidecar("ar", write_vtt(work / "ar.vtt", CUES["ar"])),
                Sidecar("en", write_srt(work / "en.srt", CUES["en"])))
    result = transcode(TranscodeRequest(source=source, output=work / "out", subtitles=sidecars,
                                        options=PlanOptions(segment_seconds=int(SEGMENT), profile="draft")))
    return result.output


def read_report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report

"""MPD: the written DASH manifest re-read with `mpegdash` into plain data, and SegmentTemplate expansion.

``expand_timeline``/``expand_template``/``segment_uris`` are pure; ``read_mpd`` reads the file. Paths in
the MPD are relative to the MPD itself (it sits at the output root), optionally under BaseURLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from mpegdash.parser import MPEGDASHParser

from pipelines.errors import PipelineError
from pipelines.qc.playlists import resolve

MPD_NAME = "manifest.mpd"
_IDENTIFIER = re.compile(r"\$(RepresentationID|Number|Bandwidth|Time)(?:%0(\d+)d)?\$|\$\$")


@dataclass(frozen=True)
class DashRepresentation:
    content_type: str  # video | audio | text (contentType, else the mimeType's type)
    lang: str | None
    id: str
    bandwidth: int | None
    timescale: int
    start_number: int
    initialization: str | None
    media: str | None
    timeline: tuple[tuple[int | None, int, int], ...]  # SegmentTimeline S (t, d, r)
    base_url: str = ""  # BaseURL of the representation (text tracks: the .vtt file)
    width: int | None = None
    height: int | None = None


def expand_timeline(timeline: tuple[tuple[int | None, int, int], ...], start_number: int
                    ) -> list[tuple[int, int, int]]:
    """(number, time, duration) of every segment a SegmentTimeline describes. Raises ValueError for an
    open-ended repeat (r=-1), which a static MPD must not use."""
    out: list[tuple[int, int, int]] = []
    time = 0
    for t, d, r in timeline:
        if r < 0:
            raise ValueError("S@r=-1 (repeat to the end) in a static MPD")
        if t is not None:
            time = t
        for _ in range(r + 1):
            out.append((start_number + len(out), time, d))
            time += d
    return out


def expand_template(template: str, *, representation_id: str, bandwidth: int | None, number: int,
                    time: int) -> str:
    """Substitute $RepresentationID$, $Number[%0Nd]$, $Bandwidth$, $Time$ and $$ (ISO/IEC 23009-1 5.3.9.4.4)."""
    values = {"RepresentationID": representation_id, "Number": number, "Bandwidth": bandwidth or 0,
              "Time": time}

    def substitute(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        value = values[match[1]]
        width = match[2]
        return f"{value:0{int(width)}d}" if width and isinstance(value, int) else str(value)

    return _IDENTIFIER.sub(substitute, template)


def segment_uris(rep: DashRepresentation) -> list[str | None]:
    """Root-relative path of every media segment (None where a URI escapes the root)."""
    if rep.media is None:
        return []
    return [resolve(rep.base_url or MPD_NAME,
                    expand_template(rep.media, representation_id=rep.id, bandwidth=rep.bandwidth, number=n,
                                    time=t))
            for n, t, _ in expand_timeline(rep.timeline, rep.start_number)]


def _first(items: Any) -> Any:
    return items[0] if items else None


def _representation(adaptation: Any, rep: Any) -> DashRepresentation:
    kind = adaptation.content_type or (rep.mime_type or adaptation.mime_type or "").split("/", 1)[0]
    template = _first(rep.segment_templates) or _first(adaptation.segment_templates)
    timeline: tuple[tuple[int | None, int, int], ...] = ()
    if template is not None and template.segment_timelines:
        timeline = tuple((s.t, int(s.d), int(s.r or 0)) for s in template.segment_timelines[0].Ss)
    base = _first(rep.base_urls) or _first(adaptation.base_urls)
    return DashRepresentation(
        content_type=str(kind), lang=adaptation.lang, id=str(rep.id), bandwidth=rep.bandwidth,
        timescale=int(template.timescale or 1) if template is not None else 1,
        start_number=int(template.start_number if template is not None and template.start_number is not None
                          else 1),
        initialization=template.initialization if template is not None else None,
        media=template.media if template is not None else None, timeline=timeline,
        base_url=str(base.base_url_value) if base is not None else "",
        width=getattr(rep, "width", None), height=getattr(rep, "height", None))


def read_mpd(root: Path) -> tuple[DashRepresentation, ...]:
    """Every Representation of every Period, in document order."""
    path = root / MPD_NAME
    try:
        mpd = MPEGDASHParser.parse(str(path))
        return tuple(_representation(adaptation, rep) for period in mpd.periods or ()
                     for adaptation in period.adaptation_sets or () for rep in adaptation.representations or ())
    except (OSError, ExpatError, ValueError, TypeError, AttributeError) as exc:
        raise PipelineError(f"{MPD_NAME}: mpegdash cannot parse it: {exc}", code="qc_manifest_unreadable",
                            hint="the DASH writer produced an invalid MPD") from exc

"""Subtitles: any sidecar (SRT, WebVTT, ASS/SSA, TTML/DFXP) in any charset -> UTF-8 WebVTT.

    load_sidecar(path, language)  read (capped) -> decode -> sniff -> parse -> normalize
    to_webvtt(doc)                one WebVTT file (DASH, downloads)
    segment_webvtt(cues, segs)    one WebVTT file per HLS segment, with X-TIMESTAMP-MAP

Every refusal is a permanent ``SubtitleRejected`` with a stable ``code``.
"""

from pipelines.subtitles.cue import Cue, SubtitleDocument
from pipelines.subtitles.limits import SubtitleLimits
from pipelines.subtitles.load import document_from_bytes, load_sidecar
from pipelines.subtitles.webvtt import segment_webvtt, to_webvtt

__all__ = [
    "Cue",
    "SubtitleDocument",
    "SubtitleLimits",
    "document_from_bytes",
    "load_sidecar",
    "segment_webvtt",
    "to_webvtt",
]

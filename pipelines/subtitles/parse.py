"""Parse: recognise a sidecar's format from its content and hand it to that format's parser.

Extensions lie (".srt" files that are WebVTT, ".txt" files that are SRT), so the content decides;
a WEBVTT header, an ASS section or a TTML root outranks bare SRT-style timing lines (which WebVTT
has too), and the extension only breaks a tie that is left.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.ass import parse_ass
from pipelines.subtitles.cue import Cue, ParseNotes
from pipelines.subtitles.srt import parse_srt
from pipelines.subtitles.ttml import parse_ttml
from pipelines.subtitles.vtt import parse_vtt

FORMATS = "SRT, WebVTT, ASS/SSA or TTML/DFXP"
_SIGNATURES = {  # in order of preference when the extension does not decide
    "vtt": re.compile(r"\A\s*WEBVTT(?:[ \t\r\n]|\Z)"),
    # Any XML goes to the TTML parser, which refuses DTDs (unsafe) and roots other than <tt>.
    "ttml": re.compile(r"\A\s*<(?:\?xml|!DOCTYPE|!--|(?:\w+:)?tt[\s>/])"),
    "ass": re.compile(r"^[ \t]*\[(?:Script Info|Events|V4\+? Styles)\][ \t]*\r?$", re.MULTILINE | re.IGNORECASE),
    "srt": re.compile(r"^[ \t]*(?:\d+:)?\d{1,2}:\d{1,2}[,.]\d+[ \t]*-->", re.MULTILINE),
}
_EXTENSIONS = {".srt": "srt", ".vtt": "vtt", ".webvtt": "vtt", ".ass": "ass", ".ssa": "ass",
               ".ttml": "ttml", ".dfxp": "ttml", ".xml": "ttml"}
_PARSERS: dict[str, Callable[..., list[Cue]]] = {
    "srt": parse_srt, "vtt": parse_vtt, "ass": parse_ass, "ttml": parse_ttml,
}


def sniff_format(text: str, suffix: str = "") -> str | None:
    """"srt" | "vtt" | "ass" | "ttml" from content (extension as tiebreak), or None."""
    head = text[:65536]
    matches = [name for name, signature in _SIGNATURES.items() if signature.search(head)]
    if len(matches) > 1 and "srt" in matches:
        matches.remove("srt")  # a header, section or root is definitive; bare timing lines are not
    preferred = _EXTENSIONS.get(suffix.lower())
    if preferred in matches:
        return preferred
    return matches[0] if matches else None


def parse_text(text: str, *, source: str, suffix: str = "", notes: ParseNotes | None = None
               ) -> tuple[str, list[Cue]]:
    """(format, cues in file order); rejects content that is none of the accepted formats. WebVTT
    regions and styles, and markup dropped, are added to ``notes``."""
    kind = sniff_format(text, suffix)
    if kind is None:
        raise SubtitleRejected(source, "not a subtitle file: no timing line, ASS section or TTML root",
                               hint=f"accepted formats: {FORMATS}", code="subtitle_unparseable")
    if kind in {"vtt", "ass"}:
        return kind, _PARSERS[kind](text, source=source, notes=notes)
    return kind, _PARSERS[kind](text, source=source)

"""Load: the one entry point from a sidecar on disk to a checked, normalised SubtitleDocument.

``read_sidecar`` is the only effect (a capped read); ``document_from_bytes`` is pure, so every rule
is testable on bytes in memory.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.errors import SubtitleRejected
from pipelines.language import normalize_language
from pipelines.subtitles.cue import ParseNotes, SubtitleDocument
from pipelines.subtitles.decode import decide_charset
from pipelines.subtitles.limits import SubtitleLimits
from pipelines.subtitles.normalize import check_limits, normalize_cues
from pipelines.subtitles.parse import FORMATS, parse_text, sniff_format

_BINARY = {  # magic numbers of files that get renamed to .srt by mistake
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image", b"%PDF": "a PDF",
    b"PK\x03\x04": "a ZIP archive", b"\x1f\x8b": "a gzip archive",
    b"\x1a\x45\xdf\xa3": "a Matroska/WebM file",
    b"RIFF": "a RIFF (AVI/WAV) file", b"\x00\x00\x01\xba": "an MPEG program stream", b"G@": "an MPEG-TS file",
}
_NEWLINE = re.compile(r"\r\n|\r|\n")
_DIALOGUE = re.compile(r"^[ \t]*dialogue[ \t]*:", re.MULTILINE | re.IGNORECASE)


def load_sidecar(path: Path, language: str, *, duration: float | None = None,
                 limits: SubtitleLimits = SubtitleLimits()) -> SubtitleDocument:  # noqa: B008 (frozen)
    data = read_sidecar(path, limits)
    return document_from_bytes(data, language, source=str(path), suffix=path.suffix, duration=duration,
                               limits=limits)


def read_sidecar(path: Path, limits: SubtitleLimits) -> bytes:
    """The file's bytes; the size cap is checked before reading and enforced while reading."""
    try:
        size = path.stat().st_size
        if size <= limits.max_bytes:
            with path.open("rb") as handle:
                data = handle.read(limits.max_bytes + 1)
            size = len(data)
    except OSError as exc:
        raise SubtitleRejected(str(path), f"cannot read the sidecar ({exc.strerror or exc})",
                               hint="check the path and its permissions", code="subtitle_unreadable") from exc
    if size > limits.max_bytes:
        raise SubtitleRejected(str(path), f"{size} bytes, more than the limit of {limits.max_bytes}",
                               hint="subtitle sidecars are small text files; check that this is one",
                               code="subtitle_too_large")
    return data


def document_from_bytes(data: bytes, language: str, *, source: str, suffix: str = "",
                        duration: float | None = None,
                        limits: SubtitleLimits = SubtitleLimits()) -> SubtitleDocument:  # noqa: B008
    tag = normalize_language(language, source=source)
    if len(data) > limits.max_bytes:
        raise SubtitleRejected(source, f"{len(data)} bytes, more than the limit of {limits.max_bytes}",
                               hint="subtitle sidecars are small text files; check that this is one",
                               code="subtitle_too_large")
    for magic, what in _BINARY.items():
        if data.startswith(magic):
            raise SubtitleRejected(source, f"this is {what}, not a subtitle file",
                                   hint=f"accepted formats: {FORMATS}", code="subtitle_unparseable")
    decision = decide_charset(data, tag, source=source)
    text = decision.text
    if sniff_format(text, suffix) != "ttml":  # XML is often one long line; its elements are capped instead
        _check_line_lengths(text, limits, source=source)
    check_complexity(text, limits, source=source, suffix=suffix)
    notes = ParseNotes()
    kind, cues = parse_text(text, source=source, suffix=suffix, notes=notes)
    check_limits(cues, limits, source=source)
    normalized = normalize_cues(cues, duration=duration)
    if not normalized and duration is not None and normalize_cues(cues):
        raise SubtitleRejected(source, f"every cue starts after the media ends ({duration:.3f} s)",
                               hint="check that the sidecar belongs to this video and its timing offset",
                               code="subtitle_out_of_range")
    if not normalized:
        raise SubtitleRejected(source, f"parsed as {kind}, but it holds no timed cue with text",
                               hint=f"accepted formats: {FORMATS}, with at least one cue",
                               code="subtitle_unparseable")
    return SubtitleDocument(language=tag, cues=normalized, source_format=kind, charset=decision.charset,
                            charset_reason=decision.reason, regions=tuple(notes.regions),
                            styles=tuple(notes.styles), dropped=tuple(sorted(notes.dropped.items())))


def _check_line_lengths(text: str, limits: SubtitleLimits, *, source: str) -> None:
    for number, line in enumerate(_NEWLINE.split(text), start=1):
        if len(line) > limits.max_line_chars:
            raise SubtitleRejected(
                source, f"line {number} has {len(line)} characters, more than {limits.max_line_chars}",
                hint="a subtitle line this long is not a subtitle; check the file",
                code="subtitle_line_too_long",
            )


def check_complexity(text: str, limits: SubtitleLimits, *, source: str, suffix: str = "") -> None:
    """Refuse before parsing what would cost too much to parse: more cue timings ("-->" and ASS
    Dialogue lines) than `max_cues`, or, for XML, more elements than `max_xml_elements`.

    Counting is linear and allocates nothing per cue, so a million-cue file is refused in
    milliseconds instead of after building a million objects.
    """
    timings = text.count("-->") + sum(1 for _ in _DIALOGUE.finditer(text))
    if timings > limits.max_cues:
        raise SubtitleRejected(source, f"{timings} cues (counted by their timing lines), more than the limit "
                               f"of {limits.max_cues}",
                               hint="split the file or raise SubtitleLimits.max_cues",
                               code="subtitle_too_many_cues")
    if sniff_format(text, suffix) == "ttml":
        elements = text.count("<") - text.count("</")
        if elements > limits.max_xml_elements:
            raise SubtitleRejected(source, f"about {elements} XML elements, more than the limit of "
                                   f"{limits.max_xml_elements}",
                                   hint="a TTML file this large is not a subtitle track; check the file",
                                   code="subtitle_too_complex")

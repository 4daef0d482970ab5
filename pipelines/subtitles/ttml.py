"""TTML / DFXP (IMSC, SMPTE-TT): broadcast and studio deliveries.

XML from outside is parsed with defusedxml and any DTD is refused, so no entity expansion or
external fetch can happen. Timing follows TTML's ``par`` semantics: a child's begin/end are offsets
from its parent's begin, an element without an end ends with its parent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.cue import Cue
from pipelines.subtitles.payload import PayloadBuilder

_CLOCK = re.compile(r"(\d+):(\d{2}):(\d{2})(?:(\.\d+)|:(\d+(?:\.\d+)?))?")
_OFFSET = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|f|t)")
_SPACE = re.compile(r"[ \t\r\n]+")
_STYLES = {"fontStyle": ("italic", "i"), "fontWeight": ("bold", "b"), "textDecoration": ("underline", "u")}


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _attr(element: ET.Element, name: str) -> str | None:
    """Attribute by local name, whatever namespace (TTML 1, DFXP and IMSC spell them differently)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value.strip()
    return None


class _Document:
    """What every element needs: frame and tick rates for time expressions, and named styles."""

    def __init__(self, root: ET.Element, source: str) -> None:
        multiplier = (_attr(root, "frameRateMultiplier") or "1 1").split()
        declared = _attr(root, "frameRate")
        self.frame_rate = float(declared or 30) * float(multiplier[0]) / float(multiplier[-1])
        self.tick_rate = float(_attr(root, "tickRate") or (self.frame_rate if declared else 1))
        self.source = source
        self.styles = {_attr(el, "id") or "": el for el in root.iter() if _local(el.tag) == "style"}

    def seconds(self, value: str) -> float:
        clock = _CLOCK.fullmatch(value)
        if clock:
            hours, minutes, secs, fraction, frames = clock.groups()
            total = int(hours) * 3600 + int(minutes) * 60 + int(secs)
            return total + (float(fraction) if fraction else float(frames or 0) / self.frame_rate)
        offset = _OFFSET.fullmatch(value)
        if offset:
            number, unit = float(offset[1]), offset[2]
            scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "f": 1 / self.frame_rate,
                     "t": 1 / self.tick_rate}[unit]
            return number * scale
        raise SubtitleRejected(self.source, f"TTML time expression {value!r} is not valid",
                               hint='use "00:00:01.500", "00:00:01:12" or "1.5s"',
                               code="subtitle_timestamp_invalid")


def parse_ttml(text: str, *, source: str = "<ttml>") -> list[Cue]:
    root = _parse_xml(text, source)
    if _local(root.tag) != "tt":
        raise SubtitleRejected(source, f"XML root is <{_local(root.tag)}>, not TTML's <tt>",
                               hint="accepted formats: SRT, WebVTT, ASS/SSA, TTML/DFXP",
                               code="subtitle_unparseable")
    document = _Document(root, source)
    cues: list[Cue] = []
    body = next((el for el in root if _local(el.tag) == "body"), None)
    if body is not None:
        _walk(body, (0.0, None), document, cues)
    return cues


def _parse_xml(text: str, source: str) -> ET.Element:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # already decoded: a stale encoding= must not apply
    try:
        root: ET.Element = fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SubtitleRejected(source, f"TTML declares a DTD, entity or external reference ({exc})",
                               hint="remove the <!DOCTYPE ...> and entity declarations; TTML needs none",
                               code="subtitle_unsafe_xml") from exc
    except ET.ParseError as exc:
        raise SubtitleRejected(source, f"TTML is not well-formed XML ({exc})",
                               hint="accepted formats: SRT, WebVTT, ASS/SSA, TTML/DFXP",
                               code="subtitle_unparseable") from exc
    return root


def _walk(element: ET.Element, parent: tuple[float, float | None], document: _Document,
          cues: list[Cue]) -> None:
    parent_begin, parent_end = parent
    begin_attr, end_attr, dur_attr = (_attr(element, name) for name in ("begin", "end", "dur"))
    begin = parent_begin + (document.seconds(begin_attr) if begin_attr else 0.0)
    end = parent_end
    if end_attr:
        end = parent_begin + document.seconds(end_attr)
    elif dur_attr:
        end = begin + document.seconds(dur_attr)
    if parent_end is not None and end is not None:
        end = min(end, parent_end)
    if _local(element.tag) == "p":
        if end is not None:  # an unbounded paragraph has no place on a finite timeline
            builder = PayloadBuilder()
            _text(element, builder, document.styles, root=True)
            cues.append(Cue(begin, end, builder.finish()))
        return
    for child in element:
        _walk(child, (begin, end), document, cues)


def _text(element: ET.Element, builder: PayloadBuilder, styles: dict[str, ET.Element], *, root: bool) -> None:
    if _local(element.tag) == "br":
        builder.newline()
    else:
        switched = [tag for tag in _styled(element, styles) if tag not in builder.open_tags]
        for tag in switched:
            builder.style(tag, True)
        builder.text(_SPACE.sub(" ", element.text or ""))
        for child in element:
            _text(child, builder, styles, root=False)
        for tag in reversed(switched):
            builder.style(tag, False)
    if not root:
        builder.text(_SPACE.sub(" ", element.tail or ""))


def _styled(element: ET.Element, styles: dict[str, ET.Element], depth: int = 0) -> list[str]:
    """<i>/<b>/<u> from inline tts: attributes and referenced <style> elements (chains allowed)."""
    tags = [tag for name, (wanted, tag) in _STYLES.items() if _attr(element, name) == wanted]
    for ref in (_attr(element, "style") or "").split():
        if ref in styles and depth < 8:
            tags += _styled(styles[ref], styles, depth + 1)
    return tags

"""TTML / DFXP (IMSC, SMPTE-TT): broadcast and studio deliveries.

XML from outside is parsed with defusedxml and any DTD is refused, so no entity expansion or
external fetch can happen. The element count is capped before parsing (`load.check_complexity`);
nesting deeper than `MAX_DEPTH` and style references are bounded here, so neither recursion nor
style chains can blow up; frame and tick rates must be positive, finite numbers. Timing follows
TTML's ``par`` semantics: a child's begin/end are offsets from its parent's begin, an element
without an end ends with its parent.

Placement: a paragraph's region (its own ``region`` attribute or its nearest ancestor's) gives the box
(``tts:origin``/``tts:extent`` in % or in px of the root's ``tts:extent``) and ``tts:displayAlign``, each
on the region, a <style> nested in it or a style it references, with TTML2's defaults for what it leaves out;
``tts:textAlign`` comes from the paragraph, its styles or its ancestors' (body, div: it inherits), else its
region (TTML2 §10.2). ``tts:color`` on a
paragraph or span becomes a WebVTT colour class.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.cue import AUTO, Cue, Placement
from pipelines.subtitles.payload import PayloadBuilder, colour_class, parse_colour
from pipelines.subtitles.placement import boxed

_CLOCK = re.compile(r"(\d+):(\d{2}):(\d{2})(?:(\.\d+)|:(\d+(?:\.\d+)?))?")
_OFFSET = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|f|t)")
_SPACE = re.compile(r"[ \t\r\n]+")
_STYLES = {"fontStyle": ("italic", "i"), "fontWeight": ("bold", "b"), "textDecoration": ("underline", "u")}
MAX_DEPTH = 64  # element nesting; real TTML uses fewer than 10 levels
_MAX_STYLE_REFS = 64  # <style> elements visited per element (chains, fan-out)
_RATE = re.compile(r"\d{1,9}(?:\.\d{1,9})?")
_TEXT_ALIGN = {"left": "left", "right": "right", "start": "start", "end": "end", "center": "center"}
_LENGTHS = re.compile(r"\s*(-?\d+(?:\.\d+)?)(%|px)\s+(-?\d+(?:\.\d+)?)(%|px)\s*")


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
        self.source = source
        multiplier = (_attr(root, "frameRateMultiplier") or "1 1").split()
        declared = _attr(root, "frameRate")
        numerator, denominator = (multiplier[0], multiplier[-1]) if multiplier else ("1", "1")
        self.frame_rate = (self._rate("frameRate", declared or "30") * self._rate("frameRateMultiplier", numerator)
                           / self._rate("frameRateMultiplier", denominator))
        ticks = _attr(root, "tickRate")
        self.tick_rate = self._rate("tickRate", ticks) if ticks else (self.frame_rate if declared else 1.0)
        self.styles = {_attr(el, "id") or "": el for el in root.iter() if _local(el.tag) == "style"}
        self.regions = {_attr(el, "id") or "": el for el in root.iter() if _local(el.tag) == "region"}
        self.extent = self._pixels(_attr(root, "extent"))
        self._resolved: dict[str, tuple[str, ...]] = {}
        self._placements: dict[tuple[str, str], Placement] = {}
        self._values: dict[tuple[str, str], str | None] = {}

    def _pixels(self, value: str | None) -> tuple[float, float] | None:
        match = _LENGTHS.fullmatch(value or "")
        if match is None or match[2] != "px" or match[4] != "px" or float(match[1]) <= 0 or float(match[3]) <= 0:
            return None
        return float(match[1]), float(match[3])

    def _percent(self, value: str | None) -> tuple[float, float] | None:
        """A TTML length pair as percentages of the root container (px needs the root's tts:extent)."""
        match = _LENGTHS.fullmatch(value or "")
        if match is None:
            return None
        pair = []
        for number, unit, axis in ((match[1], match[2], 0), (match[3], match[4], 1)):
            if unit == "%":
                pair.append(float(number))
            elif self.extent is not None:
                pair.append(100 * float(number) / self.extent[axis])
            else:
                return None
        return pair[0], pair[1]

    def style_value(self, element: ET.Element, name: str) -> str | None:
        """An attribute from the element itself, else from the <style>s it references (breadth-first)."""
        value = _attr(element, name)
        refs = _attr(element, "style") or ""
        if value is not None or not refs:
            return value
        if (refs, name) not in self._values:  # resolved once per distinct reference list (fan-out floods)
            self._values[(refs, name)] = self._referenced_value(refs, name)
        return self._values[(refs, name)]

    def _referenced_value(self, refs: str, name: str) -> str | None:
        value = None
        pending, seen = refs.split()[:_MAX_STYLE_REFS], set[str]()
        while value is None and pending and len(seen) < _MAX_STYLE_REFS:
            ref = pending.pop(0)
            if ref in seen or ref not in self.styles:
                continue
            seen.add(ref)
            value = _attr(self.styles[ref], name)
            pending += (_attr(self.styles[ref], "style") or "").split()[:_MAX_STYLE_REFS]
        return value

    def region_value(self, region: ET.Element, name: str) -> str | None:
        """A region's style attribute: on the region itself, else on a <style> child (TTML1 §8.1.2: styles
        nested in a region apply to it; EBU-TT and some IMSC exporters write them so), else from the <style>s its
        ``style`` attribute references."""
        own = _attr(region, name)
        if own is not None:
            return own
        for child in list(region)[:_MAX_STYLE_REFS]:
            if _local(child.tag) == "style" and (nested := self.style_value(child, name)) is not None:
                return nested
        return self.style_value(region, name)

    def placement(self, region_id: str, text_align: str) -> Placement:
        """The paragraph's cue placement from its region. TTML2 defaults for what a region leaves out (§10.2.35
        tts:origin auto: the root container's origin, 0 % 0 %; §10.2.16 tts:extent auto: the root container's
        extent; §10.2.12 tts:displayAlign before): a region with only an extent sits at the top left, one
        with only a displayAlign spans the frame with its lines at its top, centre or bottom. A region with
        none of origin, extent and displayAlign (``<region xml:id="r1"/>``, common as a placeholder) keeps the
        renderer's bottom line, with the paragraph's tts:textAlign. `text_align`: the paragraph's, inherited
        from its ancestors (body, div) as TTML2 §10.2.41 says; "" when none sets it."""
        region = self.regions.get(region_id)
        key = (region_id, text_align)
        if key not in self._placements:
            origin = self._percent(self.region_value(region, "origin")) if region is not None else None
            extent = self._percent(self.region_value(region, "extent")) if region is not None else None
            display = self.region_value(region, "displayAlign") if region is not None else None
            if region is None or (origin is None and extent is None and display is None):
                # No box to place: keep the paragraph's own alignment (tts:textAlign) on the default line.
                align = _TEXT_ALIGN.get(text_align, "")
                self._placements[key] = Placement(align=align) if align else AUTO
            else:
                x, y = origin or (0.0, 0.0)
                width, height = extent or (100.0 - x, 100.0 - y)
                align = text_align or self.region_value(region, "textAlign") or "start"
                self._placements[key] = boxed(x, y, width, height, align, display or "before")
        return self._placements[key]

    def referenced(self, refs: str) -> tuple[str, ...]:
        """Style tags reached from a ``style="a b"`` reference list, resolved once per distinct list.

        Breadth-first, each <style> visited once and at most _MAX_STYLE_REFS of them: styles that
        refer to themselves or each to many others cost a small, bounded amount of work."""
        if refs not in self._resolved:
            tags: list[str] = []
            pending, seen = refs.split()[:_MAX_STYLE_REFS], set[str]()
            while pending and len(seen) < _MAX_STYLE_REFS:
                ref = pending.pop(0)
                if ref in seen or ref not in self.styles:
                    continue
                seen.add(ref)
                style = self.styles[ref]
                tags += [tag for name, (wanted, tag) in _STYLES.items()
                         if _attr(style, name) == wanted and tag not in tags]
                pending += (_attr(style, "style") or "").split()[:_MAX_STYLE_REFS]
            self._resolved[refs] = tuple(tags)
        return self._resolved[refs]

    def _rate(self, name: str, value: str) -> float:
        """A positive rate attribute; zero, negative or junk would divide by zero or go non-finite."""
        if _RATE.fullmatch(value) is None or float(value) <= 0:
            raise SubtitleRejected(self.source, f"TTML {name}={value[:40]!r} is not a positive number",
                                   hint='remove the attribute or use e.g. ttp:frameRate="25"',
                                   code="subtitle_timestamp_invalid")
        return float(value)

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
        _walk(body, (0.0, None), document, cues, depth=0, region=_attr(body, "region") or "")
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


def _too_deep(source: str) -> SubtitleRejected:
    return SubtitleRejected(source, f"TTML elements are nested more than {MAX_DEPTH} deep",
                            hint="a real TTML file nests a few levels (body/div/p/span); check the file",
                            code="subtitle_too_complex")


def _walk(element: ET.Element, parent: tuple[float, float | None], document: _Document,
          cues: list[Cue], *, depth: int, region: str, text_align: str = "") -> None:
    if depth > MAX_DEPTH:
        raise _too_deep(document.source)
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
    region = _attr(element, "region") or region
    text_align = document.style_value(element, "textAlign") or text_align  # inherited (TTML2 §10.2.41)
    if _local(element.tag) == "p":
        if end is not None:  # an unbounded paragraph has no place on a finite timeline
            builder = PayloadBuilder()
            _text(element, builder, document, root=True, depth=depth)
            cues.append(Cue(begin, end, builder.finish(), document.placement(region, text_align)))
        return
    for child in element:
        _walk(child, (begin, end), document, cues, depth=depth + 1, region=region, text_align=text_align)


def _text(element: ET.Element, builder: PayloadBuilder, document: _Document, *, root: bool, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep(document.source)
    if _local(element.tag) == "br":
        builder.newline()
    else:
        switched = [tag for tag in _styled(element, document) if tag not in builder.open_tags]
        colour = parse_colour(document.style_value(element, "color") or "")
        if colour is not None and colour != "ffffff" and f"c.{colour_class(colour)}" not in builder.open_tags:
            switched.append(f"c.{colour_class(colour)}")  # white is every renderer's default
        for tag in switched:
            builder.style(tag, True)
        builder.text(_SPACE.sub(" ", element.text or ""))
        for child in element:
            _text(child, builder, document, root=False, depth=depth + 1)
        for tag in reversed(switched):
            builder.style(tag, False)
    if not root:
        builder.text(_SPACE.sub(" ", element.tail or ""))


def _styled(element: ET.Element, document: _Document) -> list[str]:
    """<i>/<b>/<u> from inline tts: attributes and referenced <style> elements (chains allowed)."""
    inline = [tag for name, (wanted, tag) in _STYLES.items() if _attr(element, name) == wanted]
    return inline + [tag for tag in document.referenced(_attr(element, "style") or "") if tag not in inline]

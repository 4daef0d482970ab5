"""ASS margins and TTML regions without an origin, from files shaped as the tools that write them do: an Aegisub
3.2 script (1920x1080, its default style's 10 px margins plus styles and lines that move the text), and an
IMSC1 text-profile TTML in the shape of Netflix's deliveries (tick times, px root extent, a style on <body>)
with regions that leave out tts:origin, carry only tts:displayAlign, nest their <style>, or reference one.
Each cue's WebVTT settings are the known right value; the written WebVTT is read back by webvtt-py."""

from __future__ import annotations

import io
from pathlib import Path

import webvtt

from pipelines.subtitles import SubtitleDocument, document_from_bytes, to_webvtt
from pipelines.subtitles.placement import margined, numpad

# Aegisub writes CRLF; the file is kept as Aegisub wrote it (its Format lines exceed our line length).
AEGISUB = (Path(__file__).parents[1] / "fixtures" / "subtitles" / "aegisub_margins.ass").read_bytes().decode("utf-8")

NETFLIX_STYLE_IMSC1 = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata"
    xmlns:ttp="http://www.w3.org/ns/ttml#parameter" xmlns:tts="http://www.w3.org/ns/ttml#styling"
    ttp:profile="http://www.w3.org/ns/ttml/profile/imsc1/text" ttp:tickRate="10000000" ttp:timeBase="media"
    tts:extent="1920px 1080px" xml:lang="en">
  <head>
    <styling>
      <style xml:id="style0" tts:color="white" tts:fontFamily="proportionalSansSerif" tts:fontSize="100%"
             tts:textAlign="center"/>
      <style xml:id="lowerBox" tts:origin="10% 70%" tts:extent="80% 20%" tts:displayAlign="after"/>
    </styling>
    <layout>
      <region xml:id="bottom" tts:displayAlign="after" tts:extent="80% 80%" tts:origin="10% 10%"/>
      <region xml:id="afterOnly" tts:displayAlign="after"/>
      <region xml:id="centerOnly" tts:displayAlign="center"/>
      <region xml:id="extentOnly" tts:extent="100% 15%" tts:displayAlign="after"/>
      <region xml:id="nested">
        <style tts:origin="10% 5%" tts:extent="80% 20%" tts:displayAlign="before"/>
      </region>
      <region xml:id="byReference" style="lowerBox"/>
      <region xml:id="placeholder"/>
    </layout>
  </head>
  <body style="style0">
    <div>
      <p begin="10000000t" end="30000000t" region="bottom">In the usual bottom region</p>
      <p begin="30000000t" end="50000000t" region="afterOnly">Only displayAlign after</p>
      <p begin="50000000t" end="70000000t" region="centerOnly">Only displayAlign center</p>
      <p begin="70000000t" end="90000000t" region="extentOnly">Only an extent: origin 0% 0%</p>
      <p begin="90000000t" end="110000000t" region="nested">A nested style places it</p>
      <p begin="110000000t" end="130000000t" region="byReference">A referenced style places it</p>
      <p begin="130000000t" end="150000000t" region="placeholder" tts:textAlign="left">A bare region</p>
    </div>
  </body>
</tt>
"""


def _doc(text: str, suffix: str) -> SubtitleDocument:
    return document_from_bytes(text.encode("utf-8"), "en", source=f"case{suffix}", suffix=suffix)


def _settings(doc: SubtitleDocument) -> list[tuple[str, str]]:
    return [(c.text, c.placement.settings()) for c in doc.cues]


def _timing_lines(vtt: str) -> list[str]:
    return [line for line in vtt.splitlines() if "-->" in line]


def test_aegisub_margins_become_cue_settings() -> None:
    doc = _doc(AEGISUB, ".ass")
    assert _settings(doc) == [
        ("At the default margins", ""),  # 10 px of 1920/1080: the renderer's own padding
        ("Above the burned-in lower third", "line:85.19%,end"),  # MarginV 160 of 1080 above the bottom
        ("Lifted by the line's own MarginV", "line:75%,end"),  # the Dialogue's 270 wins over the style's 10
        ("A sign inside wide margins", "line:5.56%,start position:50%,center size:75% align:center"),
        ("The right half only", "position:74.74%,center size:49.48% align:center"),  # MarginL 0960 (own)
        ("Middle: MarginV unused", "line:50%,center"),
        ("Positioned: margins unused", "line:50%,end position:50%,center align:center"),
    ]
    vtt = to_webvtt(doc)
    assert "00:00:03.000 --> 00:00:05.000 line:85.19%,end" in _timing_lines(vtt)
    reread = list(webvtt.from_buffer(io.StringIO(vtt)))
    assert [c.text for c in reread][1] == "Above the burned-in lower third"


def test_margins_within_the_padding_leave_the_numpad_placement() -> None:
    assert margined(2, 0.52, 0.52, 0.93) == numpad(2)
    assert margined(8, 0.0, 0.0, 5.0) == numpad(8)
    assert margined(7, 10.0, 0.0, 0.0).settings() == "line:0 position:10%,line-left size:90% align:left"
    assert margined(3, 0.0, 20.0, 10.0).settings() == "line:90%,end position:80%,line-right size:80% align:right"


def test_imsc1_regions_without_origin_get_ttml2_defaults() -> None:
    doc = _doc(NETFLIX_STYLE_IMSC1, ".ttml")
    assert [(round(c.start, 3), round(c.end, 3)) for c in doc.cues][:2] == [(1.0, 3.0), (3.0, 5.0)]
    assert _settings(doc) == [
        # origin 10% 10%, extent 80% 80%, after: the box's bottom at 90%; textAlign center from <body>'s style
        ("In the usual bottom region", "line:90%,end position:50%,center size:80% align:center"),
        # no origin or extent: the root container (0% 0%, 100% 100%)
        ("Only displayAlign after", "line:100%,end position:50%,center size:100% align:center"),
        ("Only displayAlign center", "line:50%,center position:50%,center size:100% align:center"),
        # an extent without an origin sits at the top left (TTML2 §10.2.35 auto origin)
        ("Only an extent: origin 0% 0%", "line:15%,end position:50%,center size:100% align:center"),
        ("A nested style places it", "line:5%,start position:50%,center size:80% align:center"),
        ("A referenced style places it", "line:90%,end position:50%,center size:80% align:center"),
        ("A bare region", "align:left"),  # nothing to place: the default line, the paragraph's alignment
    ]

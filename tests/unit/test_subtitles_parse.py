"""Parsers: SRT, WebVTT, ASS/SSA, TTML/DFXP, the payload builder, and format sniffing."""

from __future__ import annotations

import time

import pytest

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.ass import ass_text, parse_ass
from pipelines.subtitles.cue import Cue, ParseNotes, Placement
from pipelines.subtitles.parse import parse_text, sniff_format
from pipelines.subtitles.payload import PayloadBuilder, from_html
from pipelines.subtitles.srt import parse_srt
from pipelines.subtitles.ttml import parse_ttml
from pipelines.subtitles.vtt import parse_vtt

# --- payload -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "payload"),
    [
        ("<i>Hello</i>", "<i>Hello</i>"),
        ("<I>Hi</I> <B>there</B> <u>you</u>", "<i>Hi</i> <b>there</b> <u>you</u>"),
        ('<font color="#ff0000">red</font> text', "<c.red>red</c> text"),
        ('<font color="#12ab34">odd</font>', "<c.rgb_12ab34>odd</c>"),
        ("{\\an8}Top line", "Top line"),
        ("Tom & Jerry <3 > 2", "Tom &amp; Jerry &lt;3 &gt; 2"),
        ("a &amp; b &lt;c&gt; &nbsp;d &rlm;", "a &amp; b &lt;c&gt; \u00a0d \u200f"),
        ("<i>unclosed", "<i>unclosed</i>"),
        ("stray</i> close", "stray close"),
        ("<i><b>crossed</i> rest</b>", "<i><b>crossed</b></i><b> rest</b>"),
        ("<c.yellow.bg_blue>class</c> <v Roger>voice</v> <i.loud>it</i>",
         "<c.yellow.bg_blue>class</c> voice <i>it</i>"),
        ("<ruby>漢<rt>かん</rt></ruby>字", "漢字"),
        ("<00:00:01.000>karaoke", "karaoke"),
        ("line one\n\n  line two  ", "line one\nline two"),
        ("<i></i>", ""),
        ("   ", ""),
        ("a --> b", "a --&gt; b"),
        ("\u200f\u202bمرحبا\u202c", "\u200f\u202bمرحبا\u202c"),
    ],
)
def test_from_html(source: str, payload: str) -> None:
    assert from_html(source) == payload


def test_builder_drops_empty_pairs_and_reopens_crossed_tags() -> None:
    builder = PayloadBuilder()
    builder.style("i", True)
    builder.style("i", False)
    builder.style("b", True)
    builder.text("x")
    builder.style("i", True)
    builder.text("y")
    builder.style("b", False)
    builder.text("z")
    assert builder.finish() == "<b>x<i>y</i></b><i>z</i>"


# --- SRT -----------------------------------------------------------------------------------------

SRT = (
    "1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i>\r\nworld\r\n\r\n"
    "00:00:03.25 --> 00:00:04,000   X1:10 X2:20\r\n{\\an8}<font face=x>No id</font>\r\n\r\n\r\n"
    "  3  \r\n  00:00:05,000-->00:00:06,000  \r\nLast\r\n"
)


def test_srt_ids_optional_lax_whitespace_and_separators() -> None:
    assert parse_srt(SRT) == [
        Cue(1.0, 2.5, "<i>Hello</i>\nworld"),
        Cue(3.25, 4.0, "No id", Placement(line=0, line_percent=False)),
        Cue(5.0, 6.0, "Last"),
    ]


def test_srt_cr_only_and_missing_blank_lines() -> None:
    text = "1\r00:00:01,000 --> 00:00:02,000\rA\r2\r00:00:03,000 --> 00:00:04,000\rB"
    assert parse_srt(text) == [Cue(1.0, 2.0, "A"), Cue(3.0, 4.0, "B")]


def test_srt_number_only_text_line_is_kept_when_not_an_id() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\nThe answer is\n42\n\n2\n00:00:03,000 --> 00:00:04,000\nB\n"
    assert parse_srt(text)[0].text == "The answer is\n42"


def test_srt_invalid_clock_is_rejected_with_line_number() -> None:
    with pytest.raises(SubtitleRejected, match="line 2") as caught:
        parse_srt("1\n00:00:75,000 --> 00:00:80,000\nx\n", source="bad.srt")
    assert caught.value.code == "subtitle_timestamp_invalid"


# --- WebVTT --------------------------------------------------------------------------------------

VTT = """WEBVTT - with a title
Kind: captions

STYLE
::cue { color: yellow }

REGION
id:fred width:40%

NOTE a comment
spanning lines

intro
00:01.000 --> 00:02.000 align:start position:10%
<v Narrator>Hello &amp; <b>welcome</b>

00:00:03.000 --> 00:00:04.500
Two
lines

1:00:00.000 --> 1:00:01.000
An hour in
"""


def test_vtt_blocks_ids_settings_and_optional_hours() -> None:
    notes = ParseNotes()
    assert parse_vtt(VTT, notes=notes) == [
        Cue(1.0, 2.0, "Hello &amp; <b>welcome</b>", Placement(position=10, align="start")),
        Cue(3.0, 4.5, "Two\nlines"),
        Cue(3600.0, 3601.0, "An hour in"),
    ]
    assert (notes.regions, notes.styles) == (["id:fred width:40%"], ["::cue { color: yellow }"])


def test_vtt_broken_timing_is_rejected() -> None:
    with pytest.raises(SubtitleRejected) as caught:
        parse_vtt("WEBVTT\n\n00:01.000 --> soon\nx\n", source="b.vtt")
    assert caught.value.code == "subtitle_timestamp_invalid"


# --- ASS/SSA -------------------------------------------------------------------------------------

ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize
Style: Default,Arial,20

[Events]
Format: Start, End, Style, Text, Layer
Dialogue: 0:00:01.00,0:00:02.50,Default,Hello, world, with commas,0
Comment: 0:00:01.00,0:00:02.50,Default,not shown,0
Dialogue: 0:00:03.00,0:00:04.00,Default,{\\i1}It{\\i0}alic\\Nand {\\b1}bold{\\b0}\\hhere,0
Dialogue: 0:00:05.00,0:00:06.00,Default,{\\p1}m 0 0 l 10 0 10 10{\\p0},0
"""


def test_ass_format_line_drives_columns_and_text_keeps_commas() -> None:
    # Text is not the last column here, so the Format order, not position, must decide.
    cues = parse_ass(ASS.replace("Text, Layer", "Layer, Text").replace(",0\n", "\n").replace(
        "Default,", "Default,0,"))
    assert cues[0] == Cue(1.0, 2.5, "Hello, world, with commas")
    assert cues[1] == Cue(3.0, 4.0, "<i>It</i>alic\nand <b>bold</b> here")
    assert cues[2].text == ""  # a drawing: dropped later as empty


def test_ass_default_format_without_format_line() -> None:
    text = "[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hi, there\n"
    assert parse_ass(text) == [Cue(1.0, 2.0, "Hi, there")]


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("{\\pos(10,10)\\blur3\\bord2\\be1\\iclip(0,0,1,1)}plain", "plain"),
        ("{\\b700}heavy{\\b400} light", "<b>heavy</b> light"),
        ("{\\i1\\b1}both{\\i0} b{\\r}none", "<i><b>both</b></i><b> b</b>none"),
        ("{\\u1}under{\\u0}", "<u>under</u>"),
        ("a < b & c", "a &lt; b &amp; c"),
        ("{unclosed brace", "{unclosed brace"),
        ("text {a comment} more", "text  more"),
        ("x{\\p2}drawing{\\p0}y", "xy"),
    ],
)
def test_ass_override_tags(text: str, payload: str) -> None:
    assert ass_text(text) == payload


def test_ass_override_flood_is_linear() -> None:
    flood = "{\\i1}{\\i0}" * 50_000 + "x" + "{" * 100_000 + "\\" * 100_000
    began = time.perf_counter()
    ass_text(flood)
    assert time.perf_counter() - began < 2.0


# --- TTML ----------------------------------------------------------------------------------------

TTML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:tts="http://www.w3.org/ns/ttml#styling"
    xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:frameRate="25" ttp:tickRate="10000000">
  <head><styling>
    <style xml:id="base" tts:fontWeight="bold"/>
    <style xml:id="it" style="base" tts:fontStyle="italic"/>
  </styling></head>
  <body>
    <div begin="10s">
      <p begin="00:00:01.500" end="00:00:02:12">Nested <span tts:fontStyle="italic">ital<span>ic</span></span>
         text<br/>second   line</p>
      <p begin="1.5s" dur="500ms" style="it">styled</p>
      <p begin="30f" end="20000000t">frames and ticks</p>
      <p begin="1m" end="0.02h">minutes</p>
    </div>
    <div begin="100s" end="101s"><p begin="0.5s">inherits its end</p><p>no begin</p></div>
    <p begin="5s">unbounded: dropped</p>
  </body>
</tt>"""


def test_ttml_times_nesting_styles_and_inheritance() -> None:
    assert parse_ttml(TTML) == [
        Cue(11.5, 12.48, "Nested <i>italic</i> text\nsecond line"),
        Cue(11.5, 12.0, "<i><b>styled</b></i>"),
        Cue(11.2, 12.0, "frames and ticks"),
        Cue(70.0, 82.0, "minutes"),
        Cue(100.5, 101.0, "inherits its end"),
        Cue(100.0, 101.0, "no begin"),
    ]


def test_ttml_dfxp_namespace_and_frame_rate_multiplier() -> None:
    dfxp = ('<tt xmlns="http://www.w3.org/2006/10/ttaf1" xmlns:ttp="http://www.w3.org/2006/10/ttaf1#parameter" '
            'ttp:frameRate="30" ttp:frameRateMultiplier="1000 1001"><body><div>'
            '<p begin="00:00:01:15" end="00:00:02:00">DFXP</p></div></body></tt>')
    [cue] = parse_ttml(dfxp)
    assert cue.start == pytest.approx(1 + 15 / (30000 / 1001))
    assert cue.text == "DFXP"


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE tt [<!ENTITY a "aaaa">]><tt xmlns="http://www.w3.org/ns/ttml"><body/></tt>',
        '<!DOCTYPE tt SYSTEM "http://example.invalid/tt.dtd"><tt xmlns="http://www.w3.org/ns/ttml"/>',
        '<!DOCTYPE tt [<!ENTITY x SYSTEM "file:///etc/passwd">]><tt><body><p>&x;</p></body></tt>',
    ],
)
def test_ttml_dtd_and_entities_are_refused(xml: str) -> None:
    with pytest.raises(SubtitleRejected) as caught:
        parse_ttml(xml, source="evil.ttml")
    assert caught.value.code == "subtitle_unsafe_xml"


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        ("<tt><body><p begin='soon' end='1s'>x</p></body></tt>", "subtitle_timestamp_invalid"),
        ("<html><body/></html>", "subtitle_unparseable"),
        ("<tt><body><p>unclosed</body></tt>", "subtitle_unparseable"),
    ],
)
def test_ttml_bad_documents(xml: str, code: str) -> None:
    with pytest.raises(SubtitleRejected) as caught:
        parse_ttml(xml, source="bad.ttml")
    assert caught.value.code == code


# --- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "suffix", "kind"),
    [
        (VTT, ".srt", "vtt"),  # content wins over the extension
        (SRT, ".vtt", "srt"),
        (ASS, ".txt", "ass"),
        (TTML, ".srt", "ttml"),
        ("<!-- c --><tt:tt xmlns:tt='http://www.w3.org/ns/ttml'/>", "", "ttml"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nx\n", ".srt", "vtt"),  # a header outranks timing lines
        ("00:01.000 --> 00:02.000\nx\n", ".vtt", "srt"),  # headerless: the lax SRT parser reads it
        ("WEBVTT\n\n[Events]\n", ".ass", "ass"),  # two definitive signatures: the extension decides
        ("WEBVTT\n\n[Events]\n", ".txt", "vtt"),
        ("just some text", ".srt", None),
        ("", ".srt", None),
    ],
)
def test_sniff_format(text: str, suffix: str, kind: str | None) -> None:
    assert sniff_format(text, suffix) == kind


def test_parse_text_rejects_non_subtitles_naming_the_formats() -> None:
    with pytest.raises(SubtitleRejected) as caught:
        parse_text("hello", source="notes.srt", suffix=".srt")
    assert caught.value.code == "subtitle_unparseable"
    assert "SRT" in caught.value.hint and "TTML" in caught.value.hint

"""What authors meant survives: overlaps, positions, alignment, colours; karaoke and drawings counted.

Each case is a small input written here with its known right value (times to the millisecond,
positions as WebVTT cue settings), read back from the WebVTT we write by an independent parser
(webvtt-py) where the output is checked.
"""

from __future__ import annotations

import io

import pytest
import webvtt

from pipelines.subtitles import SubtitleDocument, document_from_bytes, segment_webvtt, to_webvtt
from pipelines.subtitles.cue import Cue, Placement
from pipelines.subtitles.placement import anchored, boxed, numpad, parse_settings

TOP = Placement(line=0, line_percent=False)


def _doc(text: str, suffix: str, language: str = "en", encoding: str = "utf-8") -> SubtitleDocument:
    return document_from_bytes(text.encode(encoding), language, source=f"case{suffix}", suffix=suffix)


def _reread(vtt: str) -> list[tuple[float, float, str]]:
    return [(c.start_in_seconds, c.end_in_seconds, c.raw_text) for c in webvtt.from_buffer(io.StringIO(vtt))]


def test_issue_overlap_srt_keeps_both_cues_whole_in_the_webvtt() -> None:
    srt = ("1\r\n00:00:01,000 --> 00:00:07,000\r\nThe long line stays seven seconds\r\n\r\n"
           "2\r\n00:00:02,000 --> 00:00:04,000\r\nA short one over it\r\n")
    doc = _doc(srt, ".srt")
    assert [(c.start, c.end) for c in doc.cues] == [(1.0, 7.0), (2.0, 4.0)]
    assert _reread(to_webvtt(doc)) == [(1.0, 7.0, "The long line stays seven seconds"),
                                       (2.0, 4.0, "A short one over it")]
    # HLS: each segment holds every cue it touches, with the original times.
    first, second = segment_webvtt(doc, [(0.0, 3.0), (3.0, 3.0)])
    assert [t for *_, t in _reread(first)] == ["The long line stays seven seconds", "A short one over it"]
    assert [(s, e) for s, e, _ in _reread(second)] == [(1.0, 7.0), (2.0, 4.0)]


def test_exact_duplicates_merge_and_same_time_texts_keep_reading_order() -> None:
    srt = "".join(f"{n}\n00:00:01,000 --> 00:00:02,000\n{t}\n\n" for n, t in enumerate(["a", "b", "a"], 1))
    assert _doc(srt, ".srt").cues == (Cue(1.0, 2.0, "a\nb"),)


@pytest.mark.parametrize(("tag", "settings"), [
    ("{\\an8}", "line:0"), ("{\\an7}", "line:0 align:left"), ("{\\an9}", "line:0 align:right"),
    ("{\\an5}", "line:50%,center"), ("{\\an1}", "align:left"), ("{\\an2}", ""), ("{\\a6}", "line:0"),
])
def test_srt_alignment_tags_become_cue_settings(tag: str, settings: str) -> None:
    doc = _doc(f"1\n00:00:01,000 --> 00:00:02,000\n{tag}Moved\n", ".srt")
    assert (doc.cues[0].text, doc.cues[0].placement.settings()) == ("Moved", settings)
    timing = to_webvtt(doc).split("\n")[2]
    assert timing == ("00:00:01.000 --> 00:00:02.000 " + settings).rstrip()


ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 1280
PlayResY: 720

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Italic, Underline, Alignment
Style: Default,Arial,40,&H00FFFFFF,0,0,0,2
Style: Sign,Arial,40,&H0000FFFF,0,-1,0,8

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:03.00,Default,,0,0,0,,{\\an7\\pos(320,72)}Top left quarter
Dialogue: 0,0:00:01.00,0:00:03.00,Sign,,0,0,0,,A sign at the top
Dialogue: 0,0:00:04.00,0:00:05.00,Default,,0,0,0,,{\\k20}Ka{\\k30}ra{\\kf40}o{\\ko10}ke
Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100{\\p0}Drawn {\\c&H0000FF&}red{\\c} plain
"""


def test_ass_position_against_playres_styles_colours_and_dropped_counts() -> None:
    doc = _doc(ASS, ".ass")
    by_text = {c.text: c for c in doc.cues}
    # \an7 anchors the cue's top-left corner at (320/1280, 72/720) = (25 %, 10 %).
    assert by_text["Top left quarter"].placement == anchored(7, 25.0, 10.0)
    assert by_text["Top left quarter"].placement.settings() == \
        "line:10%,start position:25%,line-left align:left"
    # Style "Sign": alignment 8 (top centre), italic, yellow (&H0000FFFF is BGR: red+green).
    assert by_text["<i><c.yellow>A sign at the top</c></i>"].placement == numpad(8)
    assert "Karaoke" in by_text
    assert by_text["Drawn <c.red>red</c> plain"].placement == numpad(2)
    assert dict(doc.dropped) == {"karaoke": 4, "drawing": 1}
    vtt = to_webvtt(doc)
    assert "STYLE\n::cue(.red) { color: #ff0000; }\n::cue(.yellow) { color: #ffff00; }\n" in vtt
    assert vtt.index("STYLE") < vtt.index("-->")


def test_ass_without_playres_uses_the_vsfilter_default_384x288() -> None:
    text = "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00,0:00:02.00,{\\pos(192,144)}Middle\n"
    assert _doc(text, ".ass").cues[0].placement == anchored(2, 50.0, 50.0)


VTT = """WEBVTT

REGION
id:speaker width:40% lines:3 regionanchor:0%,100% viewportanchor:10%,90% scroll:up

STYLE
::cue(.loud) { font-weight: bold; }

00:01.000 --> 00:03.000 line:10%,start position:20%,line-left align:left size:50%
Up here

00:02.000 --> 00:04.000 region:speaker
<c.loud>In the region</c>

00:05.000 --> 00:06.000 region:undefined line:-1 vertical:rl
Unknown region ignored
"""


def test_vtt_settings_regions_and_styles_survive() -> None:
    doc = _doc(VTT, ".vtt")
    assert [c.placement.settings() for c in doc.cues] == [
        "line:10%,start position:20%,line-left size:50% align:left", "region:speaker", "vertical:rl line:-1"]
    out = to_webvtt(doc)
    assert "REGION\nid:speaker width:40% lines:3 regionanchor:0%,100% viewportanchor:10%,90% scroll:up\n" in out
    assert "STYLE\n::cue(.loud) { font-weight: bold; }\n" in out
    assert [t for *_, t in _reread(out)] == ["Up here", "<c.loud>In the region</c>", "Unknown region ignored"]


TTML = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:tts="http://www.w3.org/ns/ttml#styling"
    xmlns:ttp="http://www.w3.org/ns/ttml#parameter" tts:extent="1920px 1080px">
  <head>
    <styling><style xml:id="centred" tts:textAlign="center"/></styling>
    <layout>
      <region xml:id="top" tts:origin="10% 5%" tts:extent="80% 20%" tts:displayAlign="before" style="centred"/>
      <region xml:id="bottom" tts:origin="192px 864px" tts:extent="1536px 108px" tts:displayAlign="after"/>
    </layout>
  </head>
  <body region="bottom">
    <div>
      <p begin="00:00:01.000" end="00:00:02.000" region="top">At the <span tts:color="#00ffff">top</span></p>
      <p begin="00:00:03.000" end="00:00:04.000" tts:textAlign="right">Bottom right</p>
    </div>
  </body>
</tt>
"""


def test_ttml_regions_origin_extent_and_alignment() -> None:
    doc = _doc(TTML, ".ttml")
    top, bottom = doc.cues
    assert top.text == "At the <c.cyan>top</c>"
    assert top.placement == boxed(10, 5, 80, 20, "center", "before")
    assert top.placement.settings() == "line:5%,start position:50%,center size:80% align:center"
    # px against the root extent: origin (10 %, 80 %), extent (80 %, 10 %); after: the box's bottom edge.
    assert bottom.placement.settings() == "line:90%,end position:90%,line-right size:80% align:right"


def test_invalid_settings_are_ignored_like_a_webvtt_parser_does() -> None:
    assert parse_settings("line:abc position:150% size:-3% align:diagonal region:x") == Placement(region="x")
    assert parse_settings("line:0 align:middle") == Placement(line=0, line_percent=False, align="center")
    assert parse_settings("") == Placement()


def test_whole_title_file_has_no_blocks_that_stop_ffmpeg() -> None:
    doc = _doc(VTT, ".vtt")
    plain = to_webvtt(doc, head=False)
    assert "STYLE" not in plain and "REGION" not in plain and "region:" not in plain
    assert "line:10%,start position:20%,line-left size:50% align:left" in plain
    [segment] = segment_webvtt(doc, [(0.0, 8.0)])
    assert "REGION\nid:speaker" in segment and "STYLE\n" in segment and "region:speaker" in segment


def test_ttml_text_align_without_a_region_keeps_the_alignment() -> None:
    ttml = ('<tt xmlns="http://www.w3.org/ns/ttml" xmlns:tts="http://www.w3.org/ns/ttml#styling"><body><div>'
            '<p begin="1s" end="2s" tts:textAlign="left">Left</p><p begin="3s" end="4s">Plain</p></div></body></tt>')
    assert [c.placement.settings() for c in _doc(ttml, ".ttml").cues] == ["align:left", ""]


def test_carried_style_and_region_blocks_are_capped() -> None:
    from pipelines.subtitles.vtt import MAX_REGIONS, MAX_STYLE_CHARS

    style = "STYLE\n::cue { color: red; }" + " " * 4000 + "\n\n"
    regions = "".join(f"REGION\nid:r{n} width:40%\n\n" for n in range(MAX_REGIONS + 3))
    doc = _doc("WEBVTT\n\n" + style * 10 + regions + "00:01.000 --> 00:02.000 region:r1\nx\n", ".vtt")
    assert sum(map(len, doc.styles)) <= MAX_STYLE_CHARS and len(doc.regions) == MAX_REGIONS
    assert dict(doc.dropped) == {"style": 10 - len(doc.styles), "region": 3}

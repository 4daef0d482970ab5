"""SCC timecodes, parsing and refusals, channel demultiplexing and the A/53 packet reader (pure), and the
SCC → document decode (pycaption in-process) with known frame-exact times."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from cea608gen import direct, popon, scc_text, word

from pipelines.captions import frame_of, parse_scc
from pipelines.captions.cc import _escape_graph_value, load_scc, parse_a53_packets
from pipelines.captions.scc import channel_words, render_ndf
from pipelines.errors import SubtitleRejected

FRAME = 1001 / 30000


@pytest.mark.parametrize(("label", "drop", "frame"), [
    ("00:00:00:00", False, 0), ("00:00:59:29", False, 1799), ("00:01:00:00", False, 1800),
    ("01:00:00:00", False, 108000),
    ("00:00:59;29", True, 1799), ("00:01:00;02", True, 1800), ("00:02:00;02", True, 3598),
    ("00:10:00;00", True, 17982), ("01:00:00;00", True, 107892), ("00:09:59;29", True, 17981),
])
def test_timecode_labels_name_their_frames(label: str, drop: bool, frame: int) -> None:
    hours, minutes, seconds, frames = (int(part) for part in label.replace(";", ":").split(":"))
    assert frame_of(hours, minutes, seconds, frames, drop_frame=drop) == frame


def test_a_dropped_label_does_not_exist() -> None:
    with pytest.raises(ValueError, match="drop-frame skips"):
        frame_of(0, 1, 0, 0, drop_frame=True)
    assert frame_of(0, 10, 0, 0, drop_frame=True) == 17982  # every tenth minute keeps ;00


@pytest.mark.parametrize(("text", "what"), [
    ("", "not the SCC header"),
    ("1\n00:00:01,000 --> 00:00:02,000\nHi\n", "not the SCC header"),
    ("Scenarist_SCC V1.0\n\n00:00:01;00 9420 zz20\n", "'zz20' is not a 608 byte pair"),
    ("Scenarist_SCC V1.0\n\n0:00:01;00\t9420\n", "line 3 does not start with a timecode"),
    ("Scenarist_SCC V1.0\n\n00:00:01:30\t9420\n", "frames must be 0-29"),
    ("Scenarist_SCC V1.0\n\n00:01:00;00\t9420\n", "does not exist (drop-frame skips ;00"),
    ("Scenarist_SCC V1.0\n\n00:00:01:00\t9420 9420 9420\n\n00:00:01:01\t942f\n", "before the previous line"),
    ("Scenarist_SCC V1.0\n\n", "no caption data"),
])
def test_bad_scc_is_refused_naming_the_file_and_the_line(text: str, what: str) -> None:
    with pytest.raises(SubtitleRejected) as caught:
        parse_scc(text, source="/in/ep.scc")
    assert caught.value.code == "caption_scc_invalid"
    assert "/in/ep.scc" in str(caught.value) and what in str(caught.value)
    assert "export the captions again" in (caught.value.hint or "")


def test_parse_gives_one_frame_per_pair_from_the_line_timecode() -> None:
    pairs = parse_scc("Scenarist_SCC V1.0\r\n\r\n00:01:00;02\t9420 9420 942f\r\n", source="x")
    assert pairs == [(1800, 0x9420), (1801, 0x9420), (1802, 0x942F)]


def test_channel_words_keep_one_data_channel() -> None:
    timed = [(Fraction(n), w) for n, w in enumerate([
        word(0x14, 0x20), word(0x41, 0x42),  # CC1: RCL, "AB"
        word(0x1C, 0x20), word(0x43, 0x44),  # CC2: RCL, "CD"
        0x8080,                              # padding
        word(0x14, 0x2F), word(0x45, 0x46),  # CC1 again: EOC, "EF"
    ])]
    assert [w for _, w in channel_words(timed, 1)] == [word(0x14, 0x20), word(0x41, 0x42), word(0x14, 0x2F),
                                                        word(0x45, 0x46)]
    assert [w for _, w in channel_words(timed, 2)] == [word(0x1C, 0x20), word(0x43, 0x44)]


def test_render_ndf_places_pairs_on_exact_frames_and_maps_cc3_codes() -> None:
    words = [(Fraction(1800 * 1001, 30000), word(0x15, 0x20)), (Fraction(1801 * 1001, 30000), word(0x41, 0x42))]
    text = render_ndf(words)
    assert text.splitlines()[2] == f"00:01:00:00\t{word(0x14, 0x20):04x} {word(0x41, 0x42):04x}"


# ffprobe -show_data -of json=c=1 of a subcc stream, as it prints it (one packet per line)
A53_DUMP = """{
    "packets": [
        { "pts_time": "1.445367", "data": "\\n00000000: fc94 20fd 1520 fe01 02ff 0000             ..\\n" },
        { "pts_time": "1.478733", "data": "\\n00000000: f894 2cfd 8080                           ......\\n" }
    ]
}
"""


def test_a53_packets_split_fields_and_drop_dtvcc() -> None:
    fields = parse_a53_packets(A53_DUMP, start=Fraction("1.412033"))
    assert fields[1] == [(Fraction("0.033334"), 0x9420)]  # the second packet's field-1 triplet is not valid (0xf8)
    assert fields[2] == [(Fraction("0.033334"), 0x1520), (Fraction("0.0667"), 0x8080)]  # 0xfe..: DTVCC, dropped


def test_graph_values_are_quoted_twice() -> None:
    assert _escape_graph_value("file:/a b/c,d[1];e'f") == "file\\\\:/a b/c\\,d\\[1\\]\\;e\\\\\\'f"


def _write(tmp_path: Path, name: str, frames: dict[int, int], *, drop_frame: bool) -> Path:
    path = tmp_path / name
    path.write_text(scc_text(frames, drop_frame=drop_frame), encoding="ascii")
    return path


@pytest.mark.parametrize("drop_frame", [True, False])
def test_scc_cues_are_frame_exact_past_the_minute(tmp_path: Path, drop_frame: bool) -> None:
    # 00:01:00;02 (drop) and 00:01:00:00 (non-drop) are both frame 1800 = 60.060 s; read as wall-clock
    # (ffmpeg's demuxer, pycaption) the drop-frame label would say 60.067 s and 59.97 s one frame earlier.
    frames = popon([(30, 60, ["HELLO"]), (1800, 1830, ["PAST THE MINUTE"]), (18082, 18182, ["TEN MINUTES"])])
    doc = load_scc(_write(tmp_path, "ep.scc", frames, drop_frame=drop_frame), "en")
    got = [(round(c.start / FRAME), round(c.end / FRAME), c.text) for c in doc.cues]
    assert got == [(30, 60, "HELLO"), (1800, 1830, "PAST THE MINUTE"), (18082, 18182, "TEN MINUTES")]
    for cue, (start, end, _) in zip(doc.cues, got, strict=True):  # the frame's start, to the millisecond
        assert abs(cue.start - start * FRAME) <= 0.0005 and abs(cue.end - end * FRAME) <= 0.0005
    assert doc.cues[1].start == 60.06 and doc.cues[2].start == 603.336
    assert (doc.sdh, doc.source_format) == (True, "scc")


def test_pop_on_paint_on_and_roll_up_as_a_decoder_shows_them(tmp_path: Path) -> None:
    frames = popon([(30, 60, ["POP ON"])])
    frames.update(direct([(150, "PAINT ON")], mode="painton", end=200))
    frames.update(direct([(300, "ROLL ONE"), (360, "ROLL TWO")], mode="rollup", end=450))
    doc = load_scc(_write(tmp_path, "modes.scc", frames, drop_frame=True), "en")
    got = [(round(c.start / FRAME), round(c.end / FRAME), c.text) for c in doc.cues]
    # pop-on at its EOC, paint-on from its RDC, roll-up lines as they arrive; EDM clears each
    assert got == [(30, 60, "POP ON"), (150, 200, "PAINT ON"), (300, 360, "ROLL ONE"), (360, 450, "ROLL TWO")]
    assert doc.regions and "scroll:up" in doc.regions[0]  # roll-up scrolls in a WebVTT region
    assert doc.cues[2].placement.region == doc.cues[3].placement.region != ""

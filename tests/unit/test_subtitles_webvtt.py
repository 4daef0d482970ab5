"""WebVTT output: timestamp formatting, whole files, and HLS segment files."""

from __future__ import annotations

import pytest

from pipelines.subtitles import Cue, SubtitleDocument, segment_webvtt, to_webvtt
from pipelines.subtitles.timestamp import format_timestamp, parse_clock

CUES = (Cue(0.4, 1.9, "A rabbit\n<i>wakes</i>"), Cue(3.8, 6.2, "spans &amp; crosses"), Cue(7.0, 7.5, "late"))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00.000"), (1.5, "00:00:01.500"), (59.9995, "00:01:00.000"), (59.9994, "00:00:59.999"),
     (3599.9999, "01:00:00.000"), (0.0005, "00:00:00.001"), (86399.999, "23:59:59.999"),
     (360000, "100:00:00.000"), (2.675, "00:00:02.675"), (-0.1, "00:00:00.000")],
)
def test_format_timestamp_rounds_without_a_60_carry(seconds: float, text: str) -> None:
    assert format_timestamp(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:00:01,5", 1.5), ("00:01.250", 1.25), ("1:02:03.45", 3723.45), ("00:00:02", 2.0), ("10:00:00.000", 36000)],
)
def test_parse_clock(text: str, seconds: float) -> None:
    assert parse_clock(text, source="s", where="w") == pytest.approx(seconds)


def test_to_webvtt_whole_file() -> None:
    expected = ("WEBVTT\n\n"
                "00:00:00.400 --> 00:00:01.900\nA rabbit\n<i>wakes</i>\n\n"
                "00:00:03.800 --> 00:00:06.200\nspans &amp; crosses\n\n"
                "00:00:07.000 --> 00:00:07.500\nlate\n")
    assert to_webvtt(CUES) == expected
    assert to_webvtt(SubtitleDocument("en", CUES, "srt", "utf-8")) == expected
    assert to_webvtt([]) == "WEBVTT\n\n"


def test_segment_webvtt_repeats_spanning_cues_and_keeps_absolute_times() -> None:
    files = segment_webvtt(CUES, [(0.0, 4.0), (4.0, 4.0), (8.0, 2.0)], mpegts=0)
    header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
    assert files == [
        header + "00:00:00.400 --> 00:00:01.900\nA rabbit\n<i>wakes</i>\n\n"
                 "00:00:03.800 --> 00:00:06.200\nspans &amp; crosses\n",
        header + "00:00:03.800 --> 00:00:06.200\nspans &amp; crosses\n\n"
                 "00:00:07.000 --> 00:00:07.500\nlate\n",
        header,  # no cue: still a valid, header-only file
    ]


def test_segment_boundaries_are_half_open() -> None:
    cues = (Cue(2.0, 3.0, "starts at the boundary"), Cue(1.0, 2.0, "ends at the boundary"))
    first, second = segment_webvtt(cues, [(0.0, 2.0), (2.0, 2.0)], mpegts=900000)
    assert "starts" not in first and "ends at" in first
    assert "starts" in second and "ends at" not in second
    assert "MPEGTS:900000," in second

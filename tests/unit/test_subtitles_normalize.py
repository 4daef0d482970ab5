"""Normalisation and caps: the timeline rules every sidecar goes through."""

from __future__ import annotations

import math

import pytest

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.cue import Cue, Placement
from pipelines.subtitles.limits import SubtitleLimits
from pipelines.subtitles.normalize import check_limits, normalize_cues


def test_sorts_and_drops_empty_and_non_positive_cues() -> None:
    cues = [Cue(3, 4, "c"), Cue(1, 2, "a"), Cue(2, 2, "zero"), Cue(2.5, 2.4, "negative"),
            Cue(2, 3, "  "), Cue(2, 3, "<i></i>"), Cue(2, 2.0004, "rounds to zero")]
    assert normalize_cues(cues) == (Cue(1, 2, "a"), Cue(3, 4, "c"))


def test_overlapping_cues_are_kept_whole_and_sorted() -> None:
    assert normalize_cues([Cue(3.5, 5, "c"), Cue(1, 3, "a"), Cue(2, 4, "b")]) == (
        Cue(1, 3, "a"), Cue(2, 4, "b"), Cue(3.5, 5, "c"))


def test_issue_overlap_keeps_the_long_cue_to_its_end() -> None:
    # A 1-7 s cue overlapped by a 2-4 s cue: both whole (cutting the first at 2 s lost 5 s of text).
    assert normalize_cues([Cue(1, 7, "long"), Cue(2, 4, "short")]) == (Cue(1, 7, "long"), Cue(2, 4, "short"))


def test_same_times_different_placement_stay_apart() -> None:
    top = Placement(line=0, line_percent=False)
    assert normalize_cues([Cue(1, 2, "a", top), Cue(1, 2, "b"), Cue(1, 2, "a", top)]) == (
        Cue(1, 2, "a", top), Cue(1, 2, "b"))


def test_identical_time_duplicates_are_merged() -> None:
    assert normalize_cues([Cue(1, 2, "top"), Cue(1, 2, "bottom"), Cue(1, 2, "top")]) == (
        Cue(1, 2, "top\nbottom"),)


def test_same_start_different_end_stay_two_cues() -> None:
    assert normalize_cues([Cue(1, 3, "b"), Cue(1, 2, "a")]) == (Cue(1, 2, "a"), Cue(1, 3, "b"))


def test_duration_drops_late_cues_and_clamps_long_ones() -> None:
    cues = [Cue(1, 2, "a"), Cue(4, 6, "b"), Cue(5, 7, "c"), Cue(6, 7, "d")]
    assert normalize_cues(cues, duration=5.3) == (Cue(1, 2, "a"), Cue(4, 5.3, "b"), Cue(5, 5.3, "c"))


def test_times_are_quantised_to_milliseconds() -> None:
    [cue] = normalize_cues([Cue(0.1 + 0.2, 1.0004999, "x")])
    assert (cue.start, cue.end) == (0.3, 1.0)


def test_rtl_text_is_preserved_byte_for_byte() -> None:
    text = "\u200f\u202bمرحبا بالعالم\u202c\nשלום\u200f"
    [cue] = normalize_cues([Cue(1, 2, text)])
    assert cue.text.encode() == text.encode()


def test_too_many_cues() -> None:
    cues = [Cue(i, i + 0.5, "x") for i in range(11)]
    with pytest.raises(SubtitleRejected) as caught:
        check_limits(cues, SubtitleLimits(max_cues=10), source="many.srt")
    assert caught.value.code == "subtitle_too_many_cues"
    check_limits(cues[:10], SubtitleLimits(max_cues=10), source="ok.srt")


@pytest.mark.parametrize("bad", [24 * 3600 + 0.001, -1.0, math.inf, math.nan])
def test_timestamp_beyond_limit(bad: float) -> None:
    with pytest.raises(SubtitleRejected) as caught:
        check_limits([Cue(0, 1, "ok"), Cue(0, bad, "bad")], SubtitleLimits(), source="late.srt")
    assert caught.value.code == "subtitle_timestamp_invalid"
    assert "cue 2" in caught.value.message

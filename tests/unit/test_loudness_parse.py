"""Loudness (pure): ffmpeg's ebur128 summary parsed from captured output, presets, the
linear/dynamic rule of af_loudnorm.c, pass-2 options, the QC rule and the job id of the new JobSpec field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import ConfigError
from pipelines.loudness import (
    DEFAULT_PRESET,
    PRESETS,
    Loudness,
    LoudnessTarget,
    limiter_options,
    loudnorm_mode,
    loudnorm_options,
    parse_ebur128_summary,
    parse_integrated,
    plan_track,
    target_for,
)
from pipelines.options import PlanOptions
from pipelines.qc.loudness import loudness_check
from workers.jobs.spec import JobSpec

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ffmpeg"
EBU = LoudnessTarget("ebu-r128", -23.0, -1.0)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_ebur128_summary() -> None:
    measured = parse_ebur128_summary(fixture("ebur128_summary.txt"))
    assert measured == Loudness(integrated=-29.9, lra=2.5, true_peak=-22.2, threshold=-41.2)


def test_ebur128_summary_of_silence() -> None:
    measured = parse_ebur128_summary(fixture("ebur128_silent.txt"))
    assert measured.silent
    assert measured.true_peak is None


def test_no_ebur128_summary_is_an_error() -> None:
    with pytest.raises(ValueError, match="no ebur128 summary"):
        parse_ebur128_summary(fixture("progress.txt"))


def test_presets() -> None:
    assert {n: (t.integrated, t.true_peak) if t else None for n, t in PRESETS.items()} == {
        "ebu-r128": (-23.0, -1.0), "atsc-a85": (-24.0, -2.0), "streaming": (-16.0, -1.0), "off": None}
    assert DEFAULT_PRESET == "ebu-r128"
    with pytest.raises(ConfigError, match="unknown loudness preset 'loud'"):
        target_for("loud")
    with pytest.raises(ConfigError):
        PlanOptions(loudness="-23")


@pytest.mark.parametrize(("measured", "ffmpeg_mode", "mode"), [
    (Loudness(-35.0, 3.0, -20.0, -45.0), "linear", "linear"),  # +12 dB: peak -8 dBTP, under the ceiling
    (Loudness(-8.0, 3.0, 0.0, -18.0), "linear", "linear"),  # -15 dB
    # +12 dB would put the peak at +2 dBTP: loudnorm would go dynamic; vodfleet gains and limits instead
    (Loudness(-35.0, 3.0, -10.0, -45.0), "dynamic", "limited"),
    (Loudness(-23.0, 25.0, -10.0, -33.0), "dynamic", "dynamic"),  # a range wider than loudnorm's 20 LU
    (Loudness(-62.0, 3.0, -50.0, -70.0), "dynamic", "dynamic"),  # a gate at the -70 floor: "not measured"
])
def test_linear_only_when_the_ceiling_allows(measured: Loudness, ffmpeg_mode: str, mode: str) -> None:
    assert loudnorm_mode(measured, EBU) == ffmpeg_mode
    track = plan_track("en", measured, EBU)
    assert track.mode == mode
    assert track.gain_db == (round(-23.0 - (measured.integrated or 0), 2) if mode != "dynamic" else None)
    assert track.limiter_dbtp == (-2.5 if mode == "limited" else None)


def test_pass_two_options() -> None:
    track = plan_track("en", Loudness(-30.3, 0.0, -22.23, -41.81), EBU)
    assert loudnorm_options(track, EBU) == {
        "I": "-23", "TP": "-1", "LRA": "7", "measured_I": "-30.30", "measured_LRA": "0.01",
        "measured_TP": "-22.23", "measured_thresh": "-41.81", "linear": "true", "print_format": "none"}
    wide = plan_track("en", Loudness(-30.3, 11.04, -22.23, -41.81), EBU)
    assert loudnorm_options(wide, EBU)["LRA"] == "11.1"  # raised to the source's range: stays linear
    assert wide.mode == "linear"
    wider = plan_track("en", Loudness(-35.0, 21.0, -0.2, -45.0), EBU)  # wider than loudnorm's range: dynamic
    assert wider.mode == "dynamic"
    assert loudnorm_options(wider, EBU)["TP"] == "-2.5"  # the limiter aims under the ceiling by the codec margin
    spiky = plan_track("en", Loudness(-35.0, 3.0, -0.2, -45.0), EBU)
    assert (spiky.mode, spiky.gain_db) == ("limited", 12.0)
    # alimiter at -2.5 dBTP as a linear limit, no auto-level, the lookahead delay compensated
    assert limiter_options(spiky) == {"limit": "0.749894", "attack": "5", "release": "50", "level": "0",
                                      "latency": "1"}


def test_off_measures_but_does_not_correct() -> None:
    track = plan_track("en", Loudness(-30.3, 2.5, -22.2, -41.8), None)
    assert (track.mode, track.gain_db) == ("off", None)


@pytest.mark.parametrize(("integrated", "peak", "passed"), [
    (-23.0, -1.0, True), (-22.05, -5.0, True), (-24.0, -5.0, True), (-21.9, -5.0, False), (-24.2, -5.0, False),
    (-23.0, -0.9, False), (None, None, False)])
def test_qc_rule(integrated: float | None, peak: float | None, passed: bool) -> None:
    result = loudness_check("en", Loudness(integrated, 1.0, peak, -33.0), EBU)
    assert result.name == "audio.en.loudness"
    assert result.passed is passed
    assert "target ebu-r128 -23 LUFS" in result.detail


def test_default_loudness_keeps_job_ids() -> None:
    plain = JobSpec(source="in/a.mp4", output_prefix="outputs/a")
    assert "loudness" not in plain.canonical()
    assert JobSpec(source="in/a.mp4", output_prefix="outputs/a", loudness=DEFAULT_PRESET).canonical() == \
        plain.canonical()
    other = JobSpec(source="in/a.mp4", output_prefix="outputs/a", loudness="off")
    assert '"loudness":"off"' in other.canonical()
    with pytest.raises(ValueError, match="unknown loudness preset"):
        JobSpec(source="in/a.mp4", output_prefix="outputs/a", loudness="max")


def test_integrated_only_summary() -> None:
    """The submit's silence check reads an ebur128 summary without a true peak; −70 LUFS (the floor) is silence."""
    summary = ("[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -31.4 LUFS\n"
               "    Threshold: -41.6 LUFS\n\n  Loudness range:\n    LRA:         0.0 LU\n")
    assert parse_integrated(summary) == -31.4
    assert parse_integrated(summary.replace("-31.4", "-70.0")) is None
    with pytest.raises(ValueError, match="no ebur128 summary"):
        parse_integrated(fixture("progress.txt"))

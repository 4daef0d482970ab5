"""pipelines.pertitle's pure planning on tables: curves → hull → rungs (no ffmpeg)."""

from __future__ import annotations

import itertools
import math

import pytest

from pipelines.errors import ConfigError
from pipelines.pertitle.curve import Curve, ProbePoint, convex_hull, curves_of
from pipelines.pertitle.rungs import PerTitleOptions, choose_rungs
from pipelines.rendition import VideoRendition

SIZES = {"720p": (1280, 720), "540p": (960, 540), "360p": (640, 360)}
FIXED = tuple(VideoRendition(id=i, width=w, height=h, bitrate=b, maxrate=round(b * 1.5), bufsize=2 * b,
                             profile="high")
              for i, (w, h), b in (("360p", SIZES["360p"], 365_000), ("540p", SIZES["540p"], 2_000_000),
                                   ("720p", SIZES["720p"], 4_500_000)))


def _points(table: dict[str, list[tuple[int, int, float]]]) -> list[ProbePoint]:
    return [ProbePoint(*SIZES[size], crf=crf, bitrate=bitrate, vmaf=vmaf)
            for size, rows in table.items() for crf, bitrate, vmaf in rows]


EASY = _points({"720p": [(36, 100_000, 90.0), (29, 200_000, 95.0), (22, 400_000, 97.5)],
                "540p": [(36, 80_000, 86.0), (29, 160_000, 90.0), (22, 320_000, 91.5)],
                "360p": [(36, 50_000, 75.0), (29, 100_000, 80.0), (22, 200_000, 82.0)]})
HARD = _points({"720p": [(36, 2_000_000, 80.0), (29, 4_000_000, 86.0), (22, 8_000_000, 91.0)],
                "540p": [(36, 1_200_000, 75.0), (29, 2_400_000, 81.0), (22, 4_800_000, 85.0)],
                "360p": [(36, 600_000, 62.0), (29, 1_200_000, 68.0), (22, 2_400_000, 71.0)]})


def test_curve_interpolates_in_log_bitrate_and_holds_its_best() -> None:
    curve = curves_of(EASY)[0]
    assert (curve.width, curve.height) == (1280, 720)
    assert curve.quality_at(200_000 * 2 ** 0.5) == pytest.approx(96.25)
    assert curve.bitrate_for(96.25) == pytest.approx(200_000 * 2 ** 0.5)
    assert curve.quality_at(10_000_000) == 97.5  # no better than its best probe
    assert curve.quality_at(50_000) == pytest.approx(85.0)  # extrapolated downwards
    assert curve.crf_at(200_000 * 2 ** 0.5) == pytest.approx(25.5)
    assert curve.crf_at(1.0) == 51.0


def test_a_non_monotone_probe_is_dropped() -> None:
    curve = Curve.of([ProbePoint(640, 360, 36, 100_000, 80.0), ProbePoint(640, 360, 29, 150_000, 79.0),
                      ProbePoint(640, 360, 22, 300_000, 85.0)])
    assert [p.crf for p in curve.points] == [36, 22]


def test_convex_hull_keeps_the_upper_envelope_across_sizes() -> None:
    hull = convex_hull(EASY)
    assert [(p.width, p.bitrate) for p in hull] == [(640, 50_000), (960, 80_000), (1280, 100_000),
                                                     (1280, 200_000), (1280, 400_000)]
    for a, b, c in zip(hull, hull[1:], hull[2:], strict=False):  # slopes fall: concave
        assert (b.vmaf - a.vmaf) / (b.bitrate - a.bitrate) >= (c.vmaf - b.vmaf) / (c.bitrate - b.bitrate)


def test_easy_content_keeps_the_fixed_quality_with_far_fewer_bits() -> None:
    rungs = choose_rungs(curves_of(EASY), FIXED, PerTitleOptions(margin=0))
    # bottom up: 81 VMAF is measured on 360p's curve only (720p's and 540p's cheapest probes score 90 and 86: a
    # straight line that far down is not trusted): 141 kb/s; then 1.5x spacing sets the two above it
    assert [(r.rendition.id, r.rendition.bitrate) for r in rungs] == [("720p", 318_000), ("720p-2", 212_000),
                                                                      ("720p-3", 141_000)]
    top, second, third = rungs
    assert top.aimed_vmaf == pytest.approx(96.5)  # the fixed 720p's 97.5 less 1 point (over the target 94)
    assert second.aimed_vmaf == pytest.approx(90.5)  # the fixed 540p's 91.5 less 1
    assert third.aimed_vmaf == pytest.approx(81.0) and third.rule == "fixed-ladder quality less 1"
    assert [r.rule for r in rungs[:2]] == ["1.5x over the rung below"] * 2
    # at 141 kb/s 720p is measured and scores best: the third rung is a 720p one, far over its bound
    assert third.predicted_vmaf == pytest.approx(92.5, abs=0.05)
    assert top.rendition.bitrate / second.rendition.bitrate >= 1.5
    assert second.rendition.bitrate / third.rendition.bitrate >= 1.5
    for rung in rungs:
        assert rung.predicted_vmaf >= rung.fixed_vmaf - 1.0 - 0.05
        assert rung.rendition.maxrate == round(rung.rendition.bitrate * 1.5)
        assert rung.rendition.bufsize == 2 * rung.rendition.bitrate
        assert rung.rendition.crf is not None and 22 <= rung.rendition.crf <= 45
    assert 1 - sum(r.rendition.bitrate for r in rungs) / sum(r.bitrate for r in FIXED) > 0.9


def test_target_alone_when_the_guard_is_off() -> None:
    rungs = choose_rungs(curves_of(EASY), FIXED, PerTitleOptions(target_vmaf=94, max_loss=None))
    assert rungs[0].predicted_vmaf == pytest.approx(94.0, abs=0.01)
    assert rungs[0].rendition.bitrate == math.floor(100_000 * 2 ** 0.8 / 1000) * 1000
    # 88 is measured on 540p's curve only (720p's cheapest probe scores 90): 113 kb/s, where 720p is measured and
    # scores best (90.9); then 84.9 needs more than 1/1.5 of that: 75 kb/s, under 540p's cheapest probe (80 kb/s):
    # 360p, the only size measured there
    assert [(r.rendition.id, r.rendition.bitrate) for r in rungs] == [("720p", 174_000), ("720p-2", 113_000),
                                                                      ("360p", 75_000)]
    assert rungs[1].rule == "quality step" and rungs[1].predicted_vmaf == pytest.approx(90.9, abs=0.05)
    assert rungs[2].rule == "1.5x under the rung above" and rungs[2].predicted_vmaf == pytest.approx(77.92, abs=0.05)


def test_hard_content_goes_above_the_fixed_ladder_only_as_far_as_allowed() -> None:
    rungs = choose_rungs(curves_of(HARD), FIXED)
    top = rungs[0]
    assert top.rendition.id == "720p" and top.rendition.bitrate == 9_000_000  # 2x the fixed 4.5 Mb/s
    assert top.rule == "capped at 2x the fixed"
    assert top.predicted_vmaf >= top.fixed_vmaf  # never lower than the fixed top rung
    sizes = [r.rendition.width * r.rendition.height for r in rungs]
    assert sizes == sorted(sizes, reverse=True)
    for upper, lower in itertools.pairwise(rungs):
        assert upper.rendition.bitrate / lower.rendition.bitrate >= 1.5
        assert lower.predicted_vmaf <= upper.predicted_vmaf
    assert len(rungs) <= len(FIXED)


def test_never_above_the_fixed_bitrate_when_the_fixed_reaches_the_quality() -> None:
    # 720p reaches 97.5 at 400 kb/s; a fixed 720p at 250 kb/s reaches 95.8 < the 96.5 aimed: it may be passed,
    # but a fixed 720p at 350 kb/s reaches 97.0 >= 96.5, so the top rung stays at or under it
    cheap = tuple(VideoRendition(r.id, r.width, r.height, 350_000 if r.id == "720p" else r.bitrate, 0, 0, "high")
                  for r in FIXED)
    top = choose_rungs(curves_of(EASY), cheap)[0]
    assert top.rendition.bitrate <= 350_000


@pytest.mark.parametrize("target", [10.0, 99.5])
def test_target_out_of_range_is_refused(target: float) -> None:
    with pytest.raises(ConfigError, match="--target-vmaf"):
        PerTitleOptions(target_vmaf=target)


def test_a_small_size_is_never_extrapolated_above_its_best_probe() -> None:
    """A straight line up 360p's steep grain curve would 'reach' 94 at under 1 Mb/s; its best probe scores 60."""
    steep = [p for p in HARD if p.width != 640] + _points(
        {"360p": [(36, 50_000, 20.0), (29, 100_000, 45.0), (22, 200_000, 60.0)]})
    top = choose_rungs(curves_of(steep), FIXED)[0]
    assert (top.rendition.id, top.rendition.bitrate) == ("720p", 9_000_000)
    assert top.predicted_vmaf == 91.0 and top.predicted_vmaf > top.fixed_vmaf

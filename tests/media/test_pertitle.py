"""`--ladder per-title` for real: probe encodes, VMAF, the chosen rungs encoded, and their VMAF measured on the
output against what the analysis predicted; the same ladder for every chunk of a chunked encode."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import mediagen
import pytest

from pipelines.chunk import ChunkPolicy
from pipelines.options import PlanOptions
from pipelines.pertitle.analysis import analyse
from pipelines.pertitle.rungs import PerTitleOptions
from pipelines.tools import Tools
from pipelines.transcode import TranscodeRequest, plan_transcode, transcode
from pipelines.vmaf_tool import vmaf_tool

pytestmark = pytest.mark.media

TOLERANCE = 3.0  # VMAF points between the analysis' prediction (CRF probes of the sample) and the output


@pytest.fixture(scope="session")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mediagen.make_source(tmp_path_factory.mktemp("pertitle") / "src.mp4", width=640, height=360,
                                duration=6.0)


@pytest.fixture(scope="session")
def chunked_report(master: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Per-title, cut into 3 chunks of one 2 s segment (a small policy: the suite's sources are short)."""
    out = tmp_path_factory.mktemp("pertitle_out") / "out"
    result = transcode(TranscodeRequest(
        source=master, output=out, ladder="per-title", options=PlanOptions(segment_seconds=2, profile="draft"),
        chunks=ChunkPolicy(count=3, min_seconds=2, target_seconds=2), per_title=PerTitleOptions(target_vmaf=90)))
    return result.report


def test_chosen_rungs_hold_their_predicted_quality(chunked_report: dict[str, Any]) -> None:
    per_title = chunked_report["per_title"]
    assert per_title["target_vmaf"] == 90
    chosen = {r["id"]: r for r in per_title["rungs"]}
    video = chunked_report["renditions"]["video"]
    assert sorted(v["id"] for v in video) == sorted(chosen)
    for v in video:
        rung = chosen[v["id"]]
        assert v["target_bitrate"] == rung["bitrate"]
        assert abs(v["quality"]["vmaf"] - rung["predicted_vmaf"]) <= TOLERANCE, (v["id"], v["quality"], rung)
    top = max(video, key=lambda v: (v["width"] * v["height"], v["measured_average_bitrate"]))
    assert top["quality"]["vmaf"] >= min(90.0, chosen[top["id"]]["fixed_predicted_vmaf"] - 1) - TOLERANCE


def test_rungs_follow_the_spacing_and_cap_rules(chunked_report: dict[str, Any]) -> None:
    rungs = chunked_report["per_title"]["rungs"]  # top first
    for upper, lower in itertools.pairwise(rungs):
        assert upper["bitrate"] / lower["bitrate"] >= 1.5
        assert lower["width"] * lower["height"] <= upper["width"] * upper["height"]
    for rung in rungs:
        assert rung["maxrate"] == round(rung["bitrate"] * 1.5) and rung["bufsize"] == 2 * rung["bitrate"]
        if rung["bitrate"] > rung["fixed_bitrate"]:
            assert rung["fixed_predicted_vmaf"] < 90, rung  # only when the fixed one misses
    curves = chunked_report["per_title"]["curves"]
    assert {(c["width"], c["height"]) for c in curves} == {(416, 234), (640, 360)}
    assert all(len(c["points"]) >= 2 for c in curves)
    assert chunked_report["per_title"]["hull"]


def test_every_chunk_used_the_one_ladder(chunked_report: dict[str, Any]) -> None:
    assert chunked_report["chunks"]["count"] == 3
    names = {c["name"] for c in chunked_report["qc"]["checks"]}
    assert any("x264" in n or "init" in n for n in names), names  # the stitch compared the chunks' encoders
    assert chunked_report["qc"]["passed"]


def test_the_analysis_is_deterministic(master: Path, tmp_path: Path) -> None:
    """Fleet workers each re-derive the plan: two analyses of one master must choose the same rungs."""
    tools = Tools.resolve()
    request = TranscodeRequest(source=master, output=tmp_path / "unused", options=PlanOptions(profile="draft"))
    plan = plan_transcode(request, tools=tools, loudness=False).plan
    runs = [analyse(plan, master, tools=tools, vmaf=vmaf_tool(), options=PerTitleOptions(), scratch=tmp_path,
                    remember=False) for _ in range(2)]
    assert runs[0].points == runs[1].points
    assert runs[0].rungs == runs[1].rungs
    # a worker remembers it: the next task of the same master gets the same analysis without measuring
    remembered = analyse(plan, master, tools=tools, vmaf=vmaf_tool(), options=PerTitleOptions(), scratch=tmp_path)
    assert remembered is runs[1]

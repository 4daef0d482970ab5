"""VMAF measured for real (the pinned FFmpeg 8.0 + libvmaf build) on a tiny generated source: a well-fed rung
scores high, a starved one clearly lower, and a transcode's report.json carries VMAF beside PSNR/SSIM."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import mediagen
import pytest

from pipelines.ffmpeg import encode_argv, output_folders
from pipelines.measure import measure_video_track
from pipelines.presentation import Presentation
from pipelines.rendition import VideoRendition
from pipelines.runner import run
from pipelines.tools import Tools
from pipelines.transcode import TranscodeRequest, plan_transcode, transcode
from pipelines.vmaf import measure_vmaf
from pipelines.vmaf_tool import vmaf_tool

pytestmark = pytest.mark.media


def _rung(rid: str, bitrate: int) -> VideoRendition:
    return VideoRendition(id=rid, width=640, height=360, bitrate=bitrate, maxrate=round(bitrate * 1.5),
                          bufsize=2 * bitrate, profile="high")


def test_a_starved_rung_scores_clearly_lower(tmp_path: Path) -> None:
    source = mediagen.make_source(tmp_path / "src.mp4", width=640, height=360, duration=4.0, audio=())
    tools = Tools.resolve()
    planned = plan_transcode(TranscodeRequest(source=source, output=tmp_path / "unused"), tools=tools)
    plan = dataclasses.replace(planned.plan, video=(_rung("starved", 40_000), _rung("fed", 2_500_000)), audio=())
    out = tmp_path / "out"
    for folder in output_folders(plan, out):
        folder.mkdir(parents=True)
    run(encode_argv(plan, ffmpeg=tools.ffmpeg, source=source, out=out, scratch=tmp_path))
    tracks = tuple(measure_video_track(out, f"video/{r.id}", r.id, nominal_bitrate=r.bitrate, frame_rate=plan.fps)
                   for r in plan.video)
    presentation = Presentation(duration=4.0, segment_seconds=plan.segment_seconds, video=tracks)
    scores = measure_vmaf(plan, source, out, presentation, tool=vmaf_tool(), scratch=tmp_path)
    fed, starved = scores["fed"], scores["starved"]
    assert fed.frames == starved.frames == 100
    assert fed.mean > 90, fed
    assert starved.mean < fed.mean - 25, (starved, fed)
    for score in (fed, starved):
        assert score.minimum <= score.p5 <= score.mean and score.minimum <= score.worst_segment <= 100


@pytest.fixture(scope="session")
def vmaf_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("vmaf_transcode")
    source = mediagen.make_source(root / "src.mp4", width=640, height=360, duration=4.0)
    result = transcode(TranscodeRequest(source=source, output=root / "out", ladder="compact"))
    report: dict[str, Any] = json.loads((result.output / "report.json").read_text())
    return report


def test_report_has_vmaf_for_every_rung(vmaf_report: dict[str, Any]) -> None:
    video = vmaf_report["renditions"]["video"]
    assert [v["id"] for v in video] == ["234p", "360p"]
    for v in video:
        q = v["quality"]
        assert {"psnr", "ssim", "vmaf", "vmaf_p5", "vmaf_worst_segment", "vmaf_min"} <= q.keys()
        assert 0 < q["vmaf_min"] <= q["vmaf_p5"] <= q["vmaf"] <= 100
        assert q["vmaf_frames"] == 100
    # the rung scaled up from 234p loses against the one at the display size
    assert video[0]["quality"]["vmaf"] < video[1]["quality"]["vmaf"]
    method = vmaf_report["quality_method"]["vmaf"]
    tool = vmaf_tool()
    assert method["display"] == "640x360" and method["model"] == "vmaf_v0.6.1" and method["scaler"] == "bicubic"
    assert method["tool"] == {"ffmpeg_version": tool.version, "sha256": tool.sha256}

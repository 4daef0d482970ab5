"""AV1 rungs inside the encode's memory bound, and an encoder that cannot start failing at once.

A 720p master with ``--codecs h264,av1`` (5 AV1 rungs) could not start inside the default RLIMIT_AS on 2 CPUs
(SVT-AV1 "Failed to create thread: Cannot allocate memory"), and ffmpeg 5.1 then hung to the encode timeout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mediagen
import pytest

from pipelines.errors import EncoderStartFailed
from pipelines.options import PlanOptions
from pipelines.runner import RunLimits, run
from pipelines.storyboard import StoryboardOptions
from pipelines.transcode import TranscodeRequest, transcode

pytestmark = pytest.mark.media


def test_720p_h264_av1_draft_ladder_publishes(tmp_path: Path) -> None:
    master = mediagen.make_source(tmp_path / "master.mp4", width=1280, height=720, duration=2.0)
    result = transcode(TranscodeRequest(
        source=master, output=tmp_path / "out", measure_quality=False,
        options=PlanOptions(segment_seconds=2, profile="draft", codecs=("h264", "av1")),
        thumbnails=StoryboardOptions(enabled=False)))
    assert result.report["status"] == "passed"
    ids = [r["id"] for r in result.report["renditions"]["video"]]
    assert "720p-av1" in ids and "234p-av1" in ids
    init = result.output / "video" / "720p-av1" / "init.mp4"
    segment = sorted((result.output / "video" / "720p-av1").glob("seg_*.m4s"))[0]
    joined = tmp_path / "720p-av1.mp4"
    joined.write_bytes(init.read_bytes() + segment.read_bytes())
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", str(joined)],
                                      check=True, capture_output=True).stdout)
    stream = probe["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("av1", 1280, 720)


def test_an_av1_encoder_that_cannot_start_fails_at_once() -> None:
    # five SVT-AV1 encoders at their default thread pool (every CPU) cannot start inside 3 GiB: before the runner
    # watched for the start failure, this ffmpeg hung (ignoring SIGTERM) until the time limit
    svt = ["-c:v", "libsvtav1", "-preset", "12", "-f", "null", "-"]
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-xerror", "-f", "lavfi", "-t", "2", "-i",
            "testsrc2=size=1280x720:rate=25", "-c:v", "libx264", "-preset", "ultrafast", "-f", "null", "-", *svt * 5]
    with pytest.raises(EncoderStartFailed) as info:
        run(argv, limits=RunLimits(timeout=300, memory_bytes=3 << 30))
    assert info.value.code == "ffmpeg_failed"
    assert "AV1 (SVT-AV1) encoder could not start: not enough memory" in info.value.message
    assert "Error initializing encoder" in info.value.stderr_tail

"""HEVC/AV1 rungs through a fleet job: `submit --codecs h264,av1` to the embedded fleet publishes the AV1 rungs
beside the H.264 ladder (the JobSpec field reaches the worker's plan), and the job id differs from the H.264-only
job's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fleetkit import Fleet

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality", "--ladder", "compact")


def test_a_fleet_job_with_codecs_publishes_av1_rungs(embedded_fleet: Fleet, tmp_path: Path) -> None:
    master = tmp_path / "master.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=416x234:r=25:d=4",
                    "-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    str(master)], check=True)
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(master), *DRAFT, "--codecs", "h264,av1", "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-4000:]
    job = done.stdout.splitlines()[0]
    record = json.loads(embedded_fleet.cli("status", job, "--json").stdout)
    assert record["state"] == "published"
    out = Path(str(record["output"]).removeprefix("file://"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(v["id"], v["codec"], v["codecs"][:5]) for v in report["renditions"]["video"]] == [
        ("234p", "h264", "avc1."), ("234p-av1", "av1", "av01.")]
    assert report["qc"]["passed"]
    refused = embedded_fleet.cli("submit", str(master), *DRAFT, "--codecs", "av1")
    assert refused.returncode == 2 and "leaves out h264" in refused.stderr

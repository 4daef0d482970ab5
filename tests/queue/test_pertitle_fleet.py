"""A chunked per-title job in the fleet (issue 15: "the analysis once per title, the same ladder for every chunk"):
two `vodfleet worker` processes on the embedded broker share its parts; the job's planning step analyses the title
(probe encodes + VMAF) once and keeps the result on the chunk board, the parts and the stitch plan from it. Counted
from the workers' own logs (one "per-title analysis of" line per analysis actually measured: each worker process
would otherwise measure the title again for its first part), and checked in what was published: the stitch (x264
options and timeline of every chunk) passed, and report.json's rungs are the stored ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fleetkit import Fleet
from mediagen import make_source
from test_fleet import status

pytestmark = [pytest.mark.queue, pytest.mark.media]
SECONDS = 16  # two chunks of 8 s (the chunk minimum) with 2 s segments
ANALYSIS_LINE = "per-title analysis of "  # pipelines.pertitle.analysis logs it once per measured analysis


def _owner_pid(part: dict[str, Any]) -> int:
    return int(str(part["owner"]).split(":")[1])


def test_chunked_per_title_job_analyses_the_title_once(embedded_fleet: Fleet, tmp_path: Path) -> None:
    master = make_source(tmp_path / "pertitle.mp4", width=640, height=360, duration=SECONDS)
    a, b = embedded_fleet.worker(name="a"), embedded_fleet.worker(name="b")
    done = embedded_fleet.cli("submit", str(master), "--ladder", "per-title", "--target-vmaf", "90", "--profile",
                              "draft", "--segment-seconds", "2", "--no-quality", "--chunks", "2", "--wait",
                              timeout=480)
    logs = embedded_fleet.logs()
    assert done.returncode == 0, done.stderr + logs[-6000:]
    job = done.stdout.splitlines()[0]
    record: dict[str, Any] = status(embedded_fleet, job)
    assert record["state"] == "published"

    board = record["chunks"]
    assert board["count"] == 2
    owners = {_owner_pid(p) for p in board["parts"]}
    assert all(p["state"] == "done" for p in board["parts"]), board["parts"]
    # both processes planned something from the stored ladder (else the count below could not tell)
    assert owners == {a.pid, b.pid}, f"one worker took every part: {board['parts']}"
    assert logs.count(ANALYSIS_LINE) == 1, [line for line in logs.splitlines() if ANALYSIS_LINE in line]

    stored: dict[str, Any] = board["per_title"]
    assert stored is not None and stored["options"]["target_vmaf"] == 90
    stored_rungs = [(r["rendition"]["id"], r["rendition"]["width"], r["rendition"]["height"],
                     r["rendition"]["bitrate"], r["rendition"]["maxrate"], r["rendition"]["bufsize"],
                     r["rendition"]["crf"]) for r in stored["rungs"]]

    out = Path(str(record["output"]).removeprefix("file://"))
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "passed"
    checks = {c["name"]: c["passed"] for c in report["qc"]["checks"]}
    for rung_id, *_ in stored_rungs:
        assert checks.get(f"stitch.{rung_id}.init") and checks.get(f"stitch.{rung_id}.joins"), checks
    per_title = report["per_title"]
    assert per_title["target_vmaf"] == 90
    assert [(r["id"], r["width"], r["height"], r["bitrate"], r["maxrate"], r["bufsize"], r["crf"])
            for r in per_title["rungs"]] == stored_rungs
    assert per_title["analysis_seconds"] == round(stored["seconds"], 3)  # the planning step's analysis, reported
    encoded = {v["id"]: v["target_bitrate"] for v in report["renditions"]["video"]}
    assert encoded == {rung_id: bitrate for rung_id, _, _, bitrate, *_ in stored_rungs}

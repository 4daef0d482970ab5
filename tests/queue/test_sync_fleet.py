"""One timeline through a fleet job: a 44.1 kHz master whose audio runs 1 s past its picture (the issue's two QC
failures at once), submitted with --chunks 2 to the embedded fleet (file-system broker, SQLite store, local
storage). It publishes; the marks measured in the published segments keep the master's A/V offset; the audio
ends with the picture and the MPD states the picture's duration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import syncmarks
from fleetkit import Fleet
from mediagen import make_sync_master

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


def test_a_chunked_fleet_job_keeps_the_masters_av_offset(embedded_fleet: Fleet, tmp_path: Path) -> None:
    master = make_sync_master(tmp_path / "music-master.mp4", video_seconds=16.0, audio_seconds=17.0,
                              sample_rate=44100, marks=(1.0, 8.4, 15.2))
    source = syncmarks.measure(master.path)
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(master.path), *DRAFT, "--chunks", "2", "--wait", timeout=300)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-4000:]
    record = json.loads(embedded_fleet.cli("status", done.stdout.splitlines()[0], "--json").stdout)
    assert record["state"] == "published" and record["chunks"]["count"] == 2
    out = Path(str(record["output"]).removeprefix("file://"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    picture = report["renditions"]["video"][0]
    audio = report["renditions"]["audio"][0]
    assert picture["end"] == pytest.approx(16.0, abs=0.001)
    assert audio["start"] == 0.0 and abs(audio["end"] - picture["end"]) <= 1024 / 48000
    mpd = (out / "manifest.mpd").read_text(encoding="utf-8")
    assert re.search(r'mediaPresentationDuration="PT16S"', mpd), mpd[:300]
    for rung in [v["id"] for v in report["renditions"]["video"]]:
        output, _, _ = syncmarks.measure_output(out, rung, audio["id"])
        print(f"SYNC fleet-chunked-44.1k-longer {rung}: source {source.offset * 1000:+.2f} ms, "
              f"output {output.offset * 1000:+.2f} ms")
        assert len(output.flashes) == 3
        assert abs(output.offset - source.offset) <= 0.005

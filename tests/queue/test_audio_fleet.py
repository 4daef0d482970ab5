"""Audio layouts through a fleet job: a broadcast MXF (8 untagged mono tracks) submitted with `--audio-map` to the
embedded fleet publishes the programme and its audio description, named and signalled."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fleetkit import Fleet

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


def test_a_fleet_job_with_an_audio_map_publishes_the_mapped_renditions(embedded_fleet: Fleet, tmp_path: Path) -> None:
    master = tmp_path / "broadcast.mxf"
    args = [arg for k in range(8) for arg in ("-f", "lavfi", "-i", f"sine=f={300 + 100 * k}:sample_rate=48000:d=4")]
    maps = [arg for k in range(8) for arg in ("-map", f"{k + 1}:a")]
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4",
                    *args, "-map", "0:v", *maps, "-c:v", "mpeg2video", "-q:v", "4", "-c:a", "pcm_s16le", "-ac", "1",
                    str(master)], check=True)
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(master), *DRAFT, "--audio-map", "1+2=en:main", "--audio-map", "3+4=en:ad",
                              "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-4000:]
    record = json.loads(embedded_fleet.cli("status", done.stdout.splitlines()[0], "--json").stdout)
    assert record["state"] == "published"
    out = Path(str(record["output"]).removeprefix("file://"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(a["id"], a["name"]) for a in report["renditions"]["audio"]] == [
        ("en", "English"), ("en-description", "English (audio description)")]
    assert 'CHARACTERISTICS="public.accessibility.describes-video"' in (out / "master.m3u8").read_text(encoding="utf-8")


def test_a_fleet_job_with_surround_publishes_the_51_group(embedded_fleet: Fleet, tmp_path: Path) -> None:
    """`submit --surround` of a 5.1 master: the JobSpec carries it to the worker, which publishes the 5.1 rendition
    in its own audio group beside the stereo one."""
    from mediagen import make_51_master

    master = make_51_master(tmp_path / "surround.mov")
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(master), *DRAFT, "--surround", "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-4000:]
    record = json.loads(embedded_fleet.cli("status", done.stdout.splitlines()[0], "--json").stdout)
    assert record["state"] == "published" and record["spec"]["surround"] is True
    out = Path(str(record["output"]).removeprefix("file://"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(a["id"], a["channels"]) for a in report["renditions"]["audio"]] == [("en", 2), ("en-51", 6)]
    master_playlist = (out / "master.m3u8").read_text(encoding="utf-8")
    assert 'GROUP-ID="audio-51"' in master_playlist and 'CHANNELS="6"' in master_playlist

"""`vodfleet watch` on a local drop folder: one job per master (+ sidecars), once, across restarts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fleetkit import Fleet
from mediagen import make_source

pytestmark = [pytest.mark.queue, pytest.mark.media]
SUBS = Path(__file__).resolve().parents[2] / "sample_media" / "subtitles"


def watch_once(fleet: Fleet, folder: Path) -> tuple[list[str], str]:
    done = fleet.cli("watch", str(folder), "--once", "--interval", "0.5", "--profile", "draft", "--no-quality",
                     "--segment-seconds", "2")
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), done.stderr


def test_drop_folder_makes_one_job_per_master_even_across_restarts(embedded_fleet: Fleet, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    make_source(drop / "ep1.mp4", width=160, height=90, duration=2)
    shutil.copy(SUBS / "bigbuckbunny.ko.srt", drop / "ep1.ko.srt")
    shutil.copy(SUBS / "bigbuckbunny.ar.vtt", drop / "ep1.ar.vtt")
    shutil.copy(SUBS / "bigbuckbunny.ko.srt", drop / "ep1.ko.forced.srt")  # a forced-narrative track
    (drop / "bad name.mp4").write_bytes(b"x")
    (drop / "lonely.fr.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nsalut\n", encoding="utf-8")

    jobs, said = watch_once(embedded_fleet, drop)
    assert len(jobs) == 1, said
    assert "ignored 'bad name.mp4': unsafe name" in said
    assert "waiting for the master of sidecar 'lonely.fr.srt'" in said
    status = json.loads(embedded_fleet.cli("status", jobs[0], "--json").stdout)
    assert [(s["language"], s.get("forced", False)) for s in status["spec"]["subtitles"]] == [
        ("ar", False), ("ko", False), ("ko", True)]
    markers = list((drop / ".vodfleet").glob("ep1.*.json"))
    assert len(markers) == 1 and json.loads(markers[0].read_text())["job_id"] == jobs[0]

    again, said = watch_once(embedded_fleet, drop)  # a restarted watcher: the marker says it is done
    assert again == [], said

    make_source(drop / "ep1.mp4", width=160, height=90, duration=3)  # re-uploaded with other content
    third, said = watch_once(embedded_fleet, drop)
    assert len(third) == 1 and third != jobs, said
    assert len(list((drop / ".vodfleet").glob("ep1.*.json"))) == 2

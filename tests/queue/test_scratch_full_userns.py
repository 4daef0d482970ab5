"""A full scratch disk on the embedded default fleet, without root: the worker runs in its own user and mount
namespace with a real tmpfs on its scratch folder (`fleetkit.tiny_scratch_wrap`). Full at fetch and full during
the encode: both end ``scratch_unavailable``, exit 6 (a host problem), never a storage outage; the scratch is
left empty."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fleetkit import make_fleet, tiny_scratch_wrap
from mediagen import make_source

pytestmark = [pytest.mark.queue, pytest.mark.media]


def test_a_full_scratch_disk_at_fetch(tmp_path: Path) -> None:
    master = tmp_path / "episode.mp4"
    master.write_bytes(os.urandom(1 << 20))  # 1 MiB onto 256 KiB: the fetch meets ENOSPC before any probe
    for fleet in make_fleet(tmp_path, scratch_dir=str(tmp_path / "scratch"), max_attempts="1"):
        fleet.worker(wrap=tiny_scratch_wrap(tmp_path / "scratch", "256k"))
        done = fleet.cli("submit", str(master), "--profile", "draft", "--wait", "--json", timeout=180)
        assert done.returncode == 6, done.stderr + fleet.logs()[-3000:]
        answer = json.loads(done.stdout)
        assert (answer["state"], answer["error"]["code"], answer["error"]["exit_code"]) == (
            "failed", "scratch_unavailable", 6)
        assert "episode.mp4" in answer["error"]["message"]


def test_a_full_scratch_disk_during_the_encode(tmp_path: Path) -> None:
    source = make_source(tmp_path / "small.mp4", width=640, height=360, duration=4)
    room = source.stat().st_size + 96 * 1024  # the master fits; its renditions do not
    for fleet in make_fleet(tmp_path, scratch_dir=str(tmp_path / "scratch"), max_attempts="1"):
        fleet.worker(wrap=tiny_scratch_wrap(tmp_path / "scratch", f"{room // 1024}k"))
        done = fleet.cli("submit", str(source), "--profile", "draft", "--no-quality", "--wait", "--json",
                         timeout=240)
        answer = json.loads(done.stdout)
        print(f"\nscratch of {room // 1024} KiB for a {source.stat().st_size // 1024} KiB master: {answer['state']}, "
              f"{answer.get('error', {}).get('code')}: {answer.get('error', {}).get('message', '')[:160]}")
        assert done.returncode == 6, done.stderr + fleet.logs()[-3000:]
        assert (answer["state"], answer["error"]["code"]) == ("failed", "scratch_unavailable")
        phases = [t["state"] for t in json.loads(fleet.cli("status", answer["job_id"], "--json").stdout)["history"]]
        assert "encoding" in phases or "packaging" in phases, phases  # it failed past the fetch

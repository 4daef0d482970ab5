"""A worker whose scratch volume is full when it fetches the master (a real 256 KiB tmpfs, the embedded default
fleet): the job fails as `scratch_unavailable`, exit 6 (a host problem, as during the encode), not as a storage
outage."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleetkit import Fleet, make_fleet, tiny_disk

pytestmark = [pytest.mark.queue]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    with tiny_disk(tmp_path / "scratch") as scratch:
        yield from make_fleet(tmp_path, scratch_dir=str(scratch), max_attempts="1")


def test_a_full_scratch_disk_at_fetch_is_scratch_unavailable(fleet: Fleet, tmp_path: Path) -> None:
    master = tmp_path / "episode.mp4"
    master.write_bytes(os.urandom(1 << 20))  # 1 MiB onto 256 KiB: the fetch meets ENOSPC before any probe
    fleet.worker()
    done = fleet.cli("submit", str(master), "--profile", "draft", "--wait", "--json", timeout=180)
    assert done.returncode == 6, done.stderr + fleet.logs()[-3000:]
    answer = json.loads(done.stdout)
    assert answer["state"] == "failed"
    assert answer["error"]["code"] == "scratch_unavailable"
    assert answer["error"]["exit_code"] == 6
    assert "episode.mp4" in answer["error"]["message"]
    assert "VODFLEET_SCRATCH_DIR" in answer["error"]["hint"]

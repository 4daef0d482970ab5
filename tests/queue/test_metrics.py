"""`vodfleet exporter` scraped over HTTP: queue depth from real Redis, jobs by state, and the summed metrics
of a real worker process (PROMETHEUS_MULTIPROC_DIR) changing when a job runs."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleetkit import Fleet, free_port, fresh_db, make_fleet, vodfleet_argv, wait_port
from mediagen import make_source
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def fleet(tmp_path: Path, redis_url: str) -> Iterator[Fleet]:
    url = fresh_db(redis_url, abs(hash(tmp_path.name)) % 15 + 1)
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    for f in make_fleet(tmp_path, broker_url=url, store_url=url):
        f.env["PROMETHEUS_MULTIPROC_DIR"] = str(multiproc)
        yield f


def test_exporter_reports_queue_depth_jobs_and_worker_metrics(fleet: Fleet, tmp_path: Path) -> None:
    port = free_port()
    exporter = subprocess.Popen(vodfleet_argv("exporter", "--port", str(port)), env=fleet.env,
                                stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 20, exporter)
        before = scrape(port)
        assert before[("vodfleet_queue_messages", (("queue", "vodfleet.jobs"),))] == 0
        assert before[("vodfleet_queue_reserved", (("queue", "vodfleet.jobs"),))] == 0
        assert before[("vodfleet_jobs", (("state", "queued"),))] == 0

        for n in range(2):
            source = make_source(tmp_path / f"m{n}.mp4", width=160, height=90, duration=2 + n)
            done = fleet.cli("submit", str(source), *DRAFT)
            assert done.returncode == 0, done.stderr
        queued = scrape(port)
        depth = {labels: v for (name, labels), v in queued.items() if name == "vodfleet_queue_messages"}
        assert sum(depth.values()) == 2, depth  # on the queue of this host's encoder (workers.queue.routing)
        assert queued[("vodfleet_jobs", (("state", "queued"),))] == 2

        fleet.worker()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            after = scrape(port)
            # the store says "published" a moment before the worker has recorded that job's metrics
            settled = (after[("vodfleet_jobs", (("state", "published"),))] == 2
                       and after.get(("vodfleet_encode_speed_x_realtime_count", ()), 0) == 2
                       and after.get(("vodfleet_phase_seconds_count", (("phase", "encoding"),)), 0) == 2)
            if settled:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"jobs not published and measured: {after}\n" + fleet.logs()[-3000:])
        assert sum(v for (name, _), v in after.items() if name == "vodfleet_queue_messages") == 0
        assert after[("vodfleet_phase_seconds_count", (("phase", "encoding"),))] == 2
        assert after[("vodfleet_phase_seconds_count", (("phase", "queued"),))] == 2
        assert after[("vodfleet_encode_speed_x_realtime_count", ())] == 2
        sources = sum(p.stat().st_size for p in tmp_path.glob("m*.mp4"))
        assert after[("vodfleet_source_bytes_total", ())] == sources
        assert after[("vodfleet_published_bytes_total", ())] > sources / 4
    finally:
        exporter.terminate()
        exporter.wait(10)

"""Routing by encoder, end to end: real Redis, real `vodfleet worker` processes with different encoders.

A worker that claims another encoder (VODFLEET_FINGERPRINT_OVERRIDE, the test/ops override) never encodes
a job pinned to this host's encoder, even when a message for it is put straight on its queue: it sends the
job back to its own encoder's queue, where a matching worker publishes it.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from fleetkit import Fleet, vodfleet_argv
from mediagen import make_source

from pipelines.tools import Tools
from workers.fingerprint import OVERRIDE_ENV, measure
from workers.queue import routing
from workers.queue.app import create_app
from workers.queue.depth import queue_depth
from workers.queue.names import RUN_JOB
from workers.settings import Settings

pytestmark = [pytest.mark.queue, pytest.mark.media]
OTHER = "sha256:" + "0f" * 32
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


def start_worker(fleet: Fleet, name: str, **env: str) -> subprocess.Popen[bytes]:
    saved = fleet.env
    fleet.env = {**saved, **env}
    try:
        return fleet.worker(name=name)
    finally:
        fleet.env = saved


def record(fleet: Fleet, job: str) -> dict[str, object]:
    done = fleet.cli("status", job, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def wait_log(path_glob: str, fleet: Fleet, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in p.read_text(errors="replace") for p in fleet.state.glob(path_glob)):
            return
        time.sleep(0.2)
    pytest.fail(f"no {text!r} in {path_glob} after {timeout} s\n{fleet.logs()[-4000:]}")


def test_a_worker_of_another_encoder_never_takes_the_job(redis_fleet: Fleet, tmp_path: Path) -> None:
    source = make_source(tmp_path / "small.mp4", width=320, height=180, duration=2)
    own = measure(Tools.resolve())
    other = start_worker(redis_fleet, "other", **{OVERRIDE_ENV: OTHER})
    wait_log("worker-other-*.log", redis_fleet, "ready", 60)

    done = redis_fleet.cli("submit", str(source), *DRAFT)
    assert done.returncode == 0, done.stderr
    job = done.stdout.split()[0]
    assert record(redis_fleet, job)["encoder"] == own.value

    # The job sits on its encoder's queue; the other worker does not consume it.
    settings = Settings(broker_url=redis_fleet.env["VODFLEET_BROKER_URL"],
                        store_url=redis_fleet.env["VODFLEET_STORE_URL"], state_dir=redis_fleet.state)
    mine = routing.queue_for(own.value)
    assert [d.waiting for d in queue_depth(settings, [mine, routing.queue_for(OTHER)])] == [1, 0]
    # Misroute it on purpose: a copy of its message straight onto the other encoder's queue.
    app = create_app(settings)
    app.send_task(RUN_JOB, args=[job], task_id=f"{job}.misroute", queue=routing.queue_for(OTHER))
    wait_log("worker-other-*.log", redis_fleet, "pinned to encoder", 60)
    time.sleep(1.0)
    assert record(redis_fleet, job)["state"] == "queued"  # the other worker did not start it

    start_worker(redis_fleet, "own")
    deadline = time.monotonic() + 180
    while record(redis_fleet, job)["state"] not in ("published", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
    final = record(redis_fleet, job)
    assert final["state"] == "published", redis_fleet.logs()[-4000:]
    fetching = [t for t in final["history"] if t["state"] == "fetching"]  # type: ignore[attr-defined]
    assert len(fetching) == 1  # encoded once, by the worker of its encoder
    other_log = "".join(p.read_text(errors="replace") for p in redis_fleet.state.glob("worker-other-*.log"))
    assert f"encoder {OTHER}" in other_log and "Traceback" not in other_log
    assert other.poll() is None


def test_a_worker_refuses_another_encoders_queue(redis_fleet: Fleet) -> None:
    done = subprocess.run(vodfleet_argv("worker", "--queues", routing.queue_for(OTHER)), env=redis_fleet.env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 6, done.stderr
    assert "belong to another encoder" in done.stderr


def test_doctor_names_the_worker_with_another_encoder(redis_fleet: Fleet) -> None:
    start_worker(redis_fleet, "own")
    start_worker(redis_fleet, "other", **{OVERRIDE_ENV: OTHER})
    wait_log("worker-own-*.log", redis_fleet, "ready", 60)
    wait_log("worker-other-*.log", redis_fleet, "ready", 60)
    lock = redis_fleet.state / "encoder.lock"  # this host's encoder (the committed lock may be another's)
    assert redis_fleet.cli("doctor", "--write-lock", str(lock)).returncode == 0
    done = redis_fleet.cli("doctor", "--lock", str(lock), "--timeout", "3", "--json")
    assert done.returncode == 6, done.stdout + done.stderr
    report = json.loads(done.stdout)
    answers = {str(a["fingerprint"]) for a in report["workers"].values()}
    assert answers == {report["local"]["fingerprint"], OTHER}
    [problem] = report["problems"]
    assert OTHER in problem and OVERRIDE_ENV in problem
    human = redis_fleet.cli("doctor", "--lock", str(lock), "--timeout", "3")
    assert human.returncode == 6
    assert "DIFFERENT ENCODERS" in human.stderr and "docker run" in human.stderr

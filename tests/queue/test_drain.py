"""`vodfleet drain` on a real worker running a real job (its ffmpeg paused with SIGSTOP while the drain starts, so
the job cannot end first): the worker takes no new task, finishes the running one and exits; past the timeout
the running job is handed back to the queue instead."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from fleetkit import Fleet, fresh_db, make_fleet, vodfleet_argv, wait
from mediagen import make_source

from workers.exitcodes import EXIT_INTERRUPTED, EXIT_OK
from workers.jobs.state import JobRecord, JobState
from workers.queue import drain, routing
from workers.queue.depth import queue_depth
from workers.settings import Settings
from workers.store import open_store
from workers.store.base import JobStore

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("src")
    return [make_source(folder / f"drain{n}.mp4", width=640, height=360, duration=6 + n) for n in range(2)]


@pytest.fixture
def fleet(tmp_path: Path, redis_url: str) -> Iterator[Fleet]:
    url = fresh_db(redis_url, abs(hash(tmp_path.name)) % 15 + 1)
    yield from make_fleet(tmp_path, broker_url=url, store_url=url)


def submit(fleet: Fleet, source: Path) -> str:
    done = fleet.cli("submit", str(source), *DRAFT)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0]


def record(store: JobStore, job: str) -> JobRecord:
    found = store.get(job)
    assert found is not None
    return found


def paused_encode(fleet: Fleet, store: JobStore, job: str) -> list[psutil.Process]:
    def encoding() -> list[psutil.Process]:
        if record(store, job).state is not JobState.ENCODING:
            return []
        return [p for p in psutil.process_iter(["name", "cmdline"])
                if p.info["name"] == "ffmpeg" and str(fleet.state) in " ".join(p.info["cmdline"] or [])]

    ffmpegs = wait(encoding, 120, "the encode to start", fleet)
    for proc in ffmpegs:
        proc.send_signal(signal.SIGSTOP)
    return ffmpegs


def resume(ffmpegs: list[psutil.Process]) -> None:
    for proc in ffmpegs:
        with contextlib.suppress(psutil.NoSuchProcess):  # it ended with its worker
            proc.send_signal(signal.SIGCONT)


@pytest.mark.timeout(300)
def test_drain_finishes_the_running_job_and_takes_no_new_one(fleet: Fleet, sources: list[Path]) -> None:
    store = open_store(fleet.env["VODFLEET_STORE_URL"])
    settings = Settings(broker_url=fleet.env["VODFLEET_BROKER_URL"], store_url=fleet.env["VODFLEET_STORE_URL"])
    first = submit(fleet, sources[0])
    worker = fleet.worker()
    ffmpegs = paused_encode(fleet, store, first)
    try:
        drainer = subprocess.Popen(vodfleet_argv("drain", "--pid", str(worker.pid), "--timeout", "120"),
                                   env=fleet.env, stderr=subprocess.PIPE, text=True)
        wait(lambda: "draining: no new task" in fleet.logs(), 30, "the worker to start draining", fleet)
        second = submit(fleet, sources[1])  # sent while the worker drains: it must stay on the queue
    finally:
        resume(ffmpegs)
    _out, err = drainer.communicate(timeout=180)
    assert drainer.returncode == EXIT_OK, err
    assert worker.wait(30) == 0
    done = record(store, first)
    assert done.state is JobState.PUBLISHED and done.attempt == 1
    assert [t.state for t in done.history].count(JobState.QUEUED) == 1  # the submission only: never handed back
    waiting = record(store, second)
    assert waiting.state is JobState.QUEUED and waiting.attempt == 0
    [depth] = queue_depth(settings, [routing.queue_for(waiting.encoder)])
    assert (depth.waiting, depth.reserved) == (1, 0)
    assert not drain.requested(fleet.state)  # …and a worker started later hands back on SIGTERM as usual
    store.close()


@pytest.mark.timeout(300)
def test_a_drain_past_its_timeout_hands_the_job_back(fleet: Fleet, sources: list[Path]) -> None:
    store = open_store(fleet.env["VODFLEET_STORE_URL"])
    job = submit(fleet, sources[0])
    worker = fleet.worker()
    ffmpegs = paused_encode(fleet, store, job)
    try:
        done = subprocess.run(vodfleet_argv("drain", "--pid", str(worker.pid), "--timeout", "2"), env=fleet.env,
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        resume(ffmpegs)
    assert done.returncode == EXIT_INTERRUPTED, done.stderr
    assert "handed its task back" in done.stderr
    worker.wait(30)
    back = record(store, job)
    assert back.state is JobState.QUEUED
    assert "worker shutting down" in back.history[-1].detail
    assert not drain.requested(fleet.state)
    store.close()


def test_drain_of_a_missing_process_is_a_usage_error(tmp_path: Path) -> None:
    for fleet in make_fleet(tmp_path):
        gone = subprocess.Popen(["true"])
        gone.wait()
        done = fleet.cli("drain", "--pid", str(gone.pid), "--timeout", "1")
        assert done.returncode == 2 and f"no process {gone.pid}" in done.stderr

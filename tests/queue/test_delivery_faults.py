"""Faults at the edges of a delivery, on the embedded default (filesystem broker, SQLite store) and Redis.

Each fault is placed deterministically through the test-only hooks of `workers.delivery.faults`:

* a worker SIGKILLed after it took the message and before it took the lease: the job is not lost (the watchdog
  sends it again) and publishes once, on attempt 1;
* a worker SIGTERMed mid-encode: the stopping worker does not take its own handed-back message again, so the job
  publishes on attempt 2 (the interrupted encode and the one that finished), not 3;
* a drain past its timeout hands the job back without counting another attempt;
* a worker frozen (SIGSTOP) at publish past its lease, the job taken over by a second worker, then SIGCONT: the
  frozen attempt's state writes are refused by the lease fence; the job is published once, by the new owner's
  attempt, in one version.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from fleetkit import Fleet, fresh_db, make_fleet, vodfleet_argv, wait_record
from mediagen import make_source
from test_drain import paused_encode, resume

from workers.delivery.faults import KILL_WORKER_AT, STOP_WORKER_AT
from workers.jobs.state import JobRecord, JobState
from workers.queue import routing
from workers.queue.depth import queue_depth
from workers.store import open_store

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


@pytest.fixture(scope="module")
def tiny_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("dfsrc") / "tiny.mp4", width=320, height=180, duration=3)


@pytest.fixture(scope="module")
def medium_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough to SIGTERM mid-encode (several seconds of encoding on 2 cores)."""
    return make_source(tmp_path_factory.mktemp("dfsrc") / "medium.mp4", width=1280, height=720, duration=10)




def submit(fleet: Fleet, source: Path) -> str:
    done = fleet.cli("submit", str(source), *DRAFT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def faulty_worker(fleet: Fleet, variable: str, value: str, name: str) -> subprocess.Popen[bytes]:
    """A worker started with one fault variable set (the fleet's later workers start without it)."""
    plain = fleet.env
    fleet.env = {**plain, variable: value}
    try:
        return fleet.worker(name=name)
    finally:
        fleet.env = plain


def states(record: JobRecord) -> list[tuple[str, int]]:
    return [(t.state.value, t.attempt) for t in record.history]


def versions(fleet: Fleet, title: str) -> list[str]:
    folder = fleet.state / "storage" / "outputs" / title
    return sorted(p.name for p in folder.glob("v*")) if folder.is_dir() else []


@pytest.fixture(params=["embedded", "redis"])
def any_fleet(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fleet]:
    if request.param == "embedded":
        yield from make_fleet(tmp_path)
        return
    url = fresh_db(request.getfixturevalue("redis_url"), abs(hash(tmp_path.name)) % 15 + 1)
    yield from make_fleet(tmp_path, broker_url=url, store_url=url)


@pytest.mark.timeout(180)
def test_sigkill_between_message_and_lease_loses_no_job(tmp_path: Path, tiny_master: Path) -> None:
    """Embedded broker: the message file is taken, the worker SIGKILLed before the lease. The job is left queued,
    attempt 0, with no message anywhere; a restarted worker's watchdog sends it again (queued 2 s past due, no
    lease, queue empty) and it publishes once, on attempt 1."""
    for fleet in make_fleet(tmp_path, lost_message_after="2"):
        settings = fleet.settings()
        store = open_store(settings.store)
        first = faulty_worker(fleet, KILL_WORKER_AT, "taken", "a")
        job = submit(fleet, tiny_master)
        assert first.wait(60) == -signal.SIGKILL
        record = store.get(job)
        assert record is not None and (record.state, record.attempt) == (JobState.QUEUED, 0)
        [depth] = queue_depth(settings, [routing.queue_for(record.encoder)])
        assert depth.waiting == 0  # the message is gone with its worker: only a recovery can bring the job back
        fleet.worker(name="b")
        record = wait_record(store, job, lambda r: r.state in (JobState.PUBLISHED, JobState.FAILED), 60,
                             "the lost job to be sent again and published", fleet)
        assert record.state is JobState.PUBLISHED, (record.failure, states(record))
        assert record.attempt == 1, states(record)
        assert [s for s, _ in states(record)].count("published") == 1
        assert versions(fleet, "tiny") == ["v0001"]
        assert "no lease and no message: sent again" in fleet.logs()
        print(f"\nSIGKILL at the message/lease boundary: recovered, history {states(record)}")
        store.close()


@pytest.mark.timeout(240)
def test_one_sigterm_costs_no_extra_attempt(tmp_path: Path, medium_master: Path) -> None:
    """Embedded broker: SIGTERM mid-encode. The worker hands the job back (attempt 1 kept) and takes nothing again
    while it stops; a new worker publishes it on attempt 2: one attempt for the interrupted encode, one for the
    encode that finished."""
    for fleet in make_fleet(tmp_path):
        store = open_store(fleet.settings().store)
        first = fleet.worker(name="a")
        job = submit(fleet, medium_master)
        wait_record(store, job, lambda r: r.state is JobState.ENCODING and (r.percent or 0) >= 5, 120,
                    "5 % of the encode", fleet)
        first.send_signal(signal.SIGTERM)
        first.wait(20)
        record = store.get(job)
        assert record is not None
        assert (record.state, record.attempt) == (JobState.QUEUED, 1), states(record)
        assert states(record).count(("fetching", 1)) == 1 and ("fetching", 2) not in states(record)
        fleet.worker(name="b")
        record = wait_record(store, job, lambda r: r.state in (JobState.PUBLISHED, JobState.FAILED), 180,
                             "the job to publish on worker b", fleet)
        assert record.state is JobState.PUBLISHED, (record.failure, states(record))
        assert record.attempt == 2, states(record)
        assert [s for s, _ in states(record)].count("fetching") == 2
        print(f"\nSIGTERM mid-encode: history {states(record)}")
        store.close()


@pytest.mark.timeout(240)
def test_a_drain_hand_back_costs_no_extra_attempt(tmp_path: Path, medium_master: Path) -> None:
    """Embedded broker: `vodfleet drain --timeout 2` while the job encodes (its ffmpeg paused, so it cannot end
    first). The worker takes nothing new, then hands the job back at the timeout, attempt 1 kept; a new worker
    publishes it on attempt 2."""
    for fleet in make_fleet(tmp_path):
        store = open_store(fleet.settings().store)
        job = submit(fleet, medium_master)
        worker = fleet.worker(name="a")
        ffmpegs = paused_encode(fleet, store, job)
        try:
            done = subprocess.run(vodfleet_argv("drain", "--pid", str(worker.pid), "--timeout", "2"), env=fleet.env,
                                  capture_output=True, text=True, timeout=60, check=False)
        finally:
            resume(ffmpegs)
        assert "handed its task back" in done.stderr, done.stderr
        worker.wait(30)
        record = store.get(job)
        assert record is not None
        assert (record.state, record.attempt) == (JobState.QUEUED, 1), states(record)
        fleet.worker(name="b")
        record = wait_record(store, job, lambda r: r.state in (JobState.PUBLISHED, JobState.FAILED), 180,
                             "the job to publish on worker b", fleet)
        assert record.state is JobState.PUBLISHED and record.attempt == 2, states(record)
        print(f"\ndrain past its timeout: history {states(record)}")
        store.close()


@pytest.mark.timeout(180)
def test_a_worker_frozen_past_its_lease_cannot_write_published(any_fleet: Fleet, tiny_master: Path) -> None:
    """Worker a stops itself (SIGSTOP) once it recorded `publishing`; its lease lapses, worker b's watchdog requeues
    the job and b starts attempt 2. Then a gets SIGCONT, finishes its upload and tries to write `published`: the
    store refuses it (lease_lost) and a drops the attempt. The job is published once, by attempt 2, in one version
    (a's commit record, which b reuses), and worker a lives on."""
    fleet = any_fleet
    store = open_store(fleet.settings().store)
    frozen = faulty_worker(fleet, STOP_WORKER_AT, "publishing", "a")
    job = submit(fleet, tiny_master)
    process = psutil.Process(frozen.pid)
    wait_record(store, job, lambda r: r.state is JobState.PUBLISHING and process.status() == psutil.STATUS_STOPPED,
                60, "worker a to freeze at publishing", fleet)
    fleet.worker(name="b")
    # attempt 2 may also be over already: it publishes attempt 1's kept encode without encoding (README "Sweeps")
    wait_record(store, job, lambda r: r.attempt == 2 and r.state is not JobState.QUEUED, 60,
                "attempt 2 to start on worker b", fleet)
    os.kill(process.pid, signal.SIGCONT)
    record = wait_record(store, job, lambda r: r.state in (JobState.PUBLISHED, JobState.FAILED), 90,
                         "the job to end", fleet)
    deadline = time.monotonic() + 20
    while "attempt dropped" not in fleet.logs() and time.monotonic() < deadline:
        time.sleep(0.2)
    record = store.get(job) or record
    assert record.state is JobState.PUBLISHED, (record.failure, states(record))
    assert [s for s, _ in states(record)].count("published") == 1 and ("published", 2) in states(record), \
        states(record)
    assert record.attempt == 2
    assert versions(fleet, "tiny") == ["v0001"]
    assert record.output is not None and record.output.endswith("/v0001")
    # the fence: once attempt 2 began, nothing of attempt 1 reached the record (a stale write is refused with
    # lease_lost; since a publish retry reuses the kept encode, attempt 1 may also find nothing left to write)
    began = next(i for i, t in enumerate(record.history) if t.attempt == 2)
    assert all(t.attempt == 2 for t in record.history[began:]), states(record)
    logs = fleet.logs()
    assert "Traceback" not in logs.split("no longer holds lease")[-1] or "attempt dropped" in logs, logs[-4000:]
    assert frozen.poll() is None  # the stale worker dropped its attempt and lives on
    print(f"\nSIGSTOP past the lease, then SIGCONT: history {states(record)}")
    store.close()


@pytest.fixture(scope="module")
def two_chunk_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("dfsrc") / "twochunk.mp4", width=320, height=180, duration=16)


@pytest.mark.timeout(240)
def test_sigkill_between_part_message_and_part_lease_loses_no_part(tmp_path: Path, two_chunk_master: Path) -> None:
    """Embedded broker, a job of two chunks (`--chunks 2`): worker a plans it, sends its parts, takes the first
    part's message and is SIGKILLed before the part's lease. That part stays queued with no message; once the other
    parts' messages are gone from the queue and nothing changed for 2 s, the restarted worker's watchdog sends it
    again, and the job is stitched and published, each part run exactly once."""
    for fleet in make_fleet(tmp_path, lost_message_after="2"):
        store = open_store(fleet.settings().store)
        first = faulty_worker(fleet, KILL_WORKER_AT, "taken-part", "a")
        done = fleet.cli("submit", str(two_chunk_master), *DRAFT, "--chunks", "2")
        assert done.returncode == 0, done.stderr
        job = done.stdout.strip()
        assert first.wait(120) == -signal.SIGKILL
        record = store.get(job)
        assert record is not None and record.state is JobState.ENCODING and record.chunks is not None
        assert all(p.attempts == 0 for p in record.chunks.parts), record.chunks.parts  # killed before any lease
        fleet.worker(name="b")
        record = wait_record(store, job, lambda r: r.state in (JobState.PUBLISHED, JobState.FAILED), 150,
                             "the lost part to be sent again and the job published", fleet)
        assert record.state is JobState.PUBLISHED, (record.failure, states(record))
        assert record.chunks is not None
        assert [p.attempts for p in record.chunks.parts] == [1] * len(record.chunks.parts), record.chunks.parts
        assert "with no lease and no message: sent again" in fleet.logs()
        assert versions(fleet, "twochunk") == ["v0001"]
        print(f"\nSIGKILL at a part's message/lease boundary: recovered, parts "
              f"{[(p.name, p.attempts) for p in record.chunks.parts]}")
        store.close()

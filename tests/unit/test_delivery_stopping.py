"""A stopping worker (SIGTERM, or `vodfleet drain`) starts no attempt: the delivery kernel hands the message back
before the lease and before counting, on a real SQLite store (no worker, no broker, no ffmpeg)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from workers.delivery.context import Context, Outcome
from workers.delivery.job import run_job
from workers.jobs.spec import JobSpec
from workers.jobs.state import JobRecord, JobState
from workers.settings import Settings
from workers.storage import storage_for
from workers.store.sqlite import SQLiteStore

JOB = "job-" + "ab" * 12


def context(tmp_path: Path, store: SQLiteStore, *, stopping: bool, shutdown: bool) -> Context:
    settings = Settings(state_dir=tmp_path)
    ctx = Context(settings=settings, store=store, storage=storage_for(settings), owner="host:1:abc",
                  shutdown=threading.Event(), enqueue=lambda r, d: None, dead_letter=lambda r: None,
                  enqueue_part=lambda r, i, d: None)
    if stopping:
        ctx.stopping.set()
    if shutdown:
        ctx.shutdown.set()
    return ctx


@pytest.mark.parametrize(("stopping", "shutdown"), [(True, False), (False, True), (True, True)])
def test_a_stopping_worker_hands_the_message_back_uncounted(tmp_path: Path, stopping: bool, shutdown: bool) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    store.create(JobRecord(job_id=JOB, spec=JobSpec(source="masters/a.mov", output_prefix="t/a"), created=1.0,
                           updated=1.0, attempt=1))  # handed back once already
    assert run_job(JOB, context(tmp_path, store, stopping=stopping, shutdown=shutdown)) is Outcome.REQUEUE
    record = store.get(JOB)
    assert record is not None and (record.state, record.attempt) == (JobState.QUEUED, 1)  # nothing counted
    assert store.leases() == {}  # and no lease taken
    assert store.acquire(JOB, "another", 30)

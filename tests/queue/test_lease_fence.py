"""The lease fence and the lost-message recovery on both real store backends (SQLite, Redis), without workers.

A write that carries a `Fence` is accepted only while its owner holds its lease; `resend_lost` sends again a job
or chunk part left queued with no lease (a worker killed between taking the message and taking the lease), once
per period, and never one that is leased, not yet due, or whose queue still holds a message.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from workers.delivery.watchdog import resend_lost
from workers.errors import LeaseLost
from workers.jobs.board import ChunkBoard, ChunkPart, PartState, part_lease
from workers.jobs.spec import JobSpec
from workers.jobs.state import JobRecord, JobState
from workers.store import JobStore, open_store
from workers.store.base import Fence
from workers.store.ops import begin_attempt, transition

pytestmark = pytest.mark.queue


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    else:
        url = request.getfixturevalue("redis_url") + "/14"
        redis.Redis.from_url(url).flushdb()
    s = open_store(url)
    yield s
    s.close()


def new(n: int = 0, *, updated: float = 1.0) -> JobRecord:
    return JobRecord(job_id=f"job-{n:024x}", spec=JobSpec(source="m/a.mp4", output_prefix="o/a"),
                     created=updated, updated=updated)


def test_a_write_fenced_by_a_lease_taken_over_is_refused(store: JobStore) -> None:
    job = new().job_id
    store.create(new())
    a, b = Fence(job, "worker-a"), Fence(job, "worker-b")
    assert store.acquire(job, a.owner, 0.3)
    assert begin_attempt(store, job, fence=a) == 1
    transition(store, job, JobState.FETCHING, attempt=1, fence=a)
    time.sleep(0.5)  # a's lease lapses (a frozen worker)
    with pytest.raises(LeaseLost, match="nobody holds it"):  # lapsed, not yet taken over: refused too
        transition(store, job, JobState.PROBING, attempt=1, fence=a)
    assert store.reclaim(job)
    transition(store, job, JobState.QUEUED, detail="requeued")
    assert store.acquire(job, b.owner, 30)
    assert begin_attempt(store, job, fence=b) == 2
    with pytest.raises(LeaseLost, match="worker-b holds it now") as refused:
        transition(store, job, JobState.PUBLISHED, attempt=1, output="file:///stale", fence=a)
    assert refused.value.code == "lease_lost" and not refused.value.retryable
    with pytest.raises(LeaseLost):
        begin_attempt(store, job, fence=a)
    record = store.get(job)
    assert record is not None and (record.state, record.attempt, record.output) == (JobState.QUEUED, 2, None)
    transition(store, job, JobState.FETCHING, attempt=2, fence=b)  # the holder writes as before
    store.release(job, b.owner)
    with pytest.raises(LeaseLost):  # released: its own later write is refused too
        transition(store, job, JobState.PROBING, attempt=2, fence=b)
    transition(store, job, JobState.PROBING, attempt=2)  # an unfenced write (cancel, watchdog) is not checked


def test_a_part_write_is_fenced_by_the_parts_own_lease(store: JobStore) -> None:
    store.create(new())
    job = new().job_id
    assert store.acquire(part_lease(job, 3), "worker-a", 30)
    transition(store, job, JobState.FETCHING, fence=Fence(part_lease(job, 3), "worker-a"))
    with pytest.raises(LeaseLost):  # holding part 3 does not admit writes fenced by part 4's lease
        transition(store, job, JobState.PROBING, fence=Fence(part_lease(job, 4), "worker-a"))


def chunked(n: int, *, updated: float, states: tuple[PartState, ...]) -> JobRecord:
    parts = tuple(ChunkPart(index=i, start=4.0 * i, end=4.0 * (i + 1), state=s) for i, s in enumerate(states))
    board = ChunkBoard(count=len(parts), duration=4.0 * len(parts), dispatched=updated, planned_attempt=1,
                       parts=parts)
    return new(n, updated=updated).model_copy(update={"state": JobState.ENCODING, "chunks": board})


def test_resend_lost_sends_a_queued_job_without_lease_or_message_once(store: JobStore) -> None:
    now = 1000.0
    lost, fresh, leased, waiting = new(1, updated=now - 60), new(2, updated=now - 5), new(3, updated=now - 60), \
        new(4, updated=now - 60)
    retried = new(5, updated=now - 60).model_copy(update={"attempt": 3})  # its backoff (80 s) has not passed
    for record in (lost, fresh, leased, waiting, retried):
        store.create(record)
    assert store.acquire(leased.job_id, "w", 30)
    sent: list[str] = []

    def idle(record: JobRecord) -> bool:
        return record.job_id != waiting.job_id  # the broker still holds job 4's message

    def resend(at: float) -> list[str]:
        return resend_lost(store, lambda r: sent.append(r.job_id), None, lost_after=30, queue_idle=idle, now=at)

    assert resend(now) == [lost.job_id]
    assert sent == [lost.job_id]
    assert resend(now + 1) == []  # once per period: the record's `updated` moved on
    assert resend(now + 31) == [fresh.job_id, lost.job_id]  # job 2 is now 36 s old too (newest first)
    assert sorted(resend(now + 200)) == [lost.job_id, fresh.job_id, retried.job_id]  # job 5's backoff has passed


def test_resend_lost_sends_queued_parts_of_a_chunked_job(store: JobStore) -> None:
    now = 1000.0
    record = chunked(7, updated=now - 60, states=(PartState.DONE, PartState.QUEUED, PartState.QUEUED,
                                                   PartState.RUNNING))
    store.create(record)
    assert store.acquire(part_lease(record.job_id, 2), "w", 30)  # part 2's message was just taken: leased
    parts: list[tuple[str, int]] = []
    sent = resend_lost(store, lambda r: None, lambda r, i: parts.append((r.job_id, i)), lost_after=30, now=now)
    assert parts == [(record.job_id, 1)]
    assert sent == [part_lease(record.job_id, 1)]
    assert resend_lost(store, lambda r: None, lambda r, i: parts.append((r.job_id, i)), lost_after=30,
                       now=now + 1) == []

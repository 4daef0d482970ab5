"""One contract for every job state store backend: SQLite (embedded) and Redis (fleet)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
import redis

from pipelines.chunk import ChunkPolicy, plan_chunks
from pipelines.pertitle.curve import ProbePoint, convex_hull, curves_of
from pipelines.pertitle.result import PerTitle
from pipelines.pertitle.rungs import PerTitleOptions, choose_rungs
from pipelines.rendition import VideoRendition
from workers.delivery.chunks import start_chunks
from workers.errors import IllegalTransition, JobNotFound
from workers.jobs.spec import JobSpec
from workers.jobs.state import Failure, JobRecord, JobState
from workers.store import JobStore, open_store
from workers.store.ops import begin_attempt, request_cancel, transition

pytestmark = pytest.mark.queue


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    url: str = request.getfixturevalue("redis_url") + "/15"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[JobStore]:
    s = open_store(store_url)
    yield s
    s.close()


def new(n: int = 0, *, created: float = 1.0) -> JobRecord:
    return JobRecord(job_id=f"job-{n:024x}", spec=JobSpec(source="m/a.mp4", output_prefix="o/a"),
                     created=created, updated=created)


def test_create_is_idempotent(store: JobStore) -> None:
    record, created = store.create(new())
    assert created
    again, created_again = store.create(new().model_copy(update={"duration": 9.0}))
    assert not created_again
    assert again == record
    assert store.get("job-" + "f" * 24) is None


def test_transitions_are_checked_and_durable(store: JobStore) -> None:
    store.create(new())
    job = new().job_id
    assert begin_attempt(store, job) == 1
    transition(store, job, JobState.FETCHING, attempt=1)
    transition(store, job, JobState.ENCODING, attempt=1, percent=42.0, eta=3.0)
    with pytest.raises(IllegalTransition, match="encoding → probing"):
        transition(store, job, JobState.PROBING)
    transition(store, job, JobState.FAILED, failure=Failure(code="x", retryable=False, message="m"))
    stored = store.get(job)
    assert stored is not None
    assert stored.state is JobState.FAILED and stored.failure is not None and stored.failure.code == "x"
    assert [(t.state, t.attempt) for t in stored.history] == [
        (JobState.FETCHING, 1), (JobState.ENCODING, 1), (JobState.FAILED, 1)]
    with pytest.raises(JobNotFound):
        transition(store, "job-" + "e" * 24, JobState.FETCHING)


def test_list_filters_by_state_newest_first(store: JobStore) -> None:
    for n in range(3):
        store.create(new(n, created=float(n)))
    transition(store, new(1).job_id, JobState.CANCELLED)
    assert [r.job_id for r in store.jobs()] == [new(2).job_id, new(1).job_id, new(0).job_id]
    assert [r.job_id for r in store.jobs(state=JobState.CANCELLED)] == [new(1).job_id]
    assert len(store.jobs(limit=2)) == 2


def test_cancel_of_a_queued_job_is_immediate_of_a_running_one_a_flag(store: JobStore) -> None:
    store.create(new(0))
    store.create(new(1))
    assert request_cancel(store, new(0).job_id).state is JobState.CANCELLED
    transition(store, new(1).job_id, JobState.FETCHING)
    flagged = request_cancel(store, new(1).job_id)
    assert flagged.state is JobState.FETCHING and flagged.cancel_requested


def test_leases(store: JobStore) -> None:
    job = new().job_id
    assert store.acquire(job, "a", 0.4)
    assert not store.acquire(job, "b", 0.4)
    assert store.renew(job, "a", 0.4)
    assert not store.renew(job, "b", 0.4)
    assert store.expired() == []
    assert store.leases() == {job: "a"}
    time.sleep(0.6)
    assert store.expired() == [job]
    assert store.leases() == {}  # lapsed: no longer running work
    assert not store.renew(job, "a", 0.4)  # lapsed: renewing would resurrect someone else's job
    assert store.reclaim(job)
    assert not store.reclaim(job)  # exactly one watchdog wins
    assert store.expired() == []
    assert store.acquire(job, "b", 5)
    store.release(job, "a")  # not the owner: no effect
    assert not store.acquire(job, "c", 5)
    assert store.acquire(f"{job}~part3", "d", 5)
    assert store.leases() == {job: "b", f"{job}~part3": "d"}
    store.release(job, "b")
    assert store.leases() == {f"{job}~part3": "d"}
    assert store.acquire(job, "c", 5)


def _race(url: str, job: str, owner: str, out: multiprocessing.Queue[str]) -> None:
    s = open_store(url)
    if s.acquire(job, owner, 30):
        out.put(owner)
    for _ in range(20):
        begin_attempt(s, job)


def test_one_lease_and_no_lost_update_across_processes(store: JobStore, store_url: str) -> None:
    store.create(new())
    job = new().job_id
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[str] = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(store_url, job, f"p{n}", out)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    winners = []
    while not out.empty():
        winners.append(out.get())
    assert len(winners) == 1
    stored = store.get(job)
    assert stored is not None and stored.attempt == 80


def test_a_per_title_analysis_on_the_chunk_board_round_trips(store: JobStore) -> None:
    """A chunked per-title job keeps its analysis on the board (`workers.delivery.chunks.start_chunks`): every
    backend gives back the same rungs, curves and options, so the parts and the stitch adopt what was chosen."""
    fixed = (VideoRendition(id="234p", width=416, height=234, bitrate=300_000, maxrate=450_000, bufsize=600_000,
                            profile="main"),
             VideoRendition(id="360p", width=640, height=360, bitrate=800_000, maxrate=1_200_000, bufsize=1_600_000,
                            profile="main"))
    points = [ProbePoint(w, h, crf=crf, bitrate=b, vmaf=v) for w, h, crf, b, v in (
        (640, 360, 40, 90_000, 84.5), (640, 360, 31, 180_000, 91.25), (640, 360, 22, 360_000, 96.125),
        (416, 234, 40, 60_000, 78.0), (416, 234, 31, 120_000, 84.75), (416, 234, 22, 240_000, 88.5))]
    options = PerTitleOptions(target_vmaf=91.5)
    curves = curves_of(points)
    known = PerTitle(options=options, windows=((0.0, 2.0),), display=(640, 360), points=tuple(points),
                     curves=tuple(curves), hull=tuple(convex_hull(points)), rungs=choose_rungs(curves, fixed, options),
                     fixed=fixed, seconds=1.5)
    store.create(new())
    job = new().job_id
    record = transition(store, job, JobState.FETCHING, attempt=1)
    start_chunks(store, record, plan_chunks(16.0, 2, 2, Fraction(25), ChunkPolicy(count=2)), 1, per_title=known)
    again = store.get(job)
    assert again is not None and again.chunks is not None
    assert again.chunks.per_title == known
    assert [(r.rendition.id, r.rendition.bitrate, r.rendition.crf) for r in again.chunks.per_title.rungs] == [
        (r.rendition.id, r.rendition.bitrate, r.rendition.crf) for r in known.rungs]

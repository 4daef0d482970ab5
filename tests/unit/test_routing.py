"""workers.queue.routing: one queue per encoder fingerprint; workers admit only jobs pinned to their encoder."""

from __future__ import annotations

import pytest

from workers.fingerprint import Fingerprint
from workers.jobs.spec import JobSpec
from workers.jobs.state import JobRecord
from workers.queue import routing
from workers.queue.names import JOBS_QUEUE

A = Fingerprint(value="sha256:" + "a1" * 32)
B = Fingerprint(value="sha256:" + "b2" * 32)


def record(encoder: str | None) -> JobRecord:
    return JobRecord(job_id="job-" + "0" * 24, spec=JobSpec(source="masters/x/a.mp4", output_prefix="out/a"),
                     created=0.0, updated=0.0, encoder=encoder)


@pytest.mark.parametrize(("encoder", "queue"), [
    (A.value, "vodfleet.jobs.a1a1a1a1a1a1"),
    (B.value, "vodfleet.jobs.b2b2b2b2b2b2"),
    (None, JOBS_QUEUE),
])
def test_queue_for(encoder: str | None, queue: str) -> None:
    assert routing.queue_for(encoder) == queue


def test_a_worker_consumes_its_own_queue_and_the_unpinned_one() -> None:
    assert routing.worker_queues(A) == ["vodfleet.jobs.a1a1a1a1a1a1", JOBS_QUEUE]


@pytest.mark.parametrize(("queues", "foreign"), [
    (["vodfleet.jobs.a1a1a1a1a1a1", JOBS_QUEUE], []),
    (["vodfleet.jobs.b2b2b2b2b2b2"], ["vodfleet.jobs.b2b2b2b2b2b2"]),
    (["vodfleet.dead", "other"], []),
])
def test_foreign_queues(queues: list[str], foreign: list[str]) -> None:
    assert routing.foreign_queues(queues, A) == foreign


@pytest.mark.parametrize(("queue", "short"), [
    ("vodfleet.jobs.a1a1a1a1a1a1", "a1a1a1a1a1a1"), (JOBS_QUEUE, None), ("vodfleet.dead", None)])
def test_fingerprint_of_queue(queue: str, short: str | None) -> None:
    assert routing.fingerprint_of_queue(queue) == short


@pytest.mark.parametrize(("encoder", "own", "ok"), [
    (A.value, A, True), (A.value, B, False), (None, A, True), (None, B, True)])
def test_admits(encoder: str | None, own: Fingerprint, ok: bool) -> None:
    assert routing.admits(record(encoder), own) is ok

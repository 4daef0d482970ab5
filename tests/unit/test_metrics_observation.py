"""Metrics rules (pure): what a job-record change observes; queue-depth key and count helpers."""

from __future__ import annotations

from workers.jobs.spec import JobSpec
from workers.jobs.state import Failure, JobRecord, JobState, apply
from workers.metrics.observation import Failed, PhaseTime, Retried, observations
from workers.queue.depth import filesystem_counts, redis_queue_keys, reserved_by_queue

SPEC = JobSpec(source="masters/a/ep1.mp4", output_prefix="outputs/ep1")


def fresh() -> JobRecord:
    from workers.jobs.state import Transition

    return JobRecord(job_id="job-" + "0" * 24, spec=SPEC, created=100.0, updated=100.0,
                     history=(Transition(state=JobState.QUEUED, at=100.0, attempt=0),))


def test_each_state_change_observes_the_time_spent_in_the_previous_state() -> None:
    queued = fresh()
    fetching = apply(queued, JobState.FETCHING, at=103.0, attempt=1)
    encoding = apply(fetching, JobState.ENCODING, at=110.5)
    assert observations(queued, fetching) == [PhaseTime("queued", 3.0)]
    assert observations(fetching, encoding) == [PhaseTime("fetching", 7.5)]
    progress = apply(encoding, JobState.ENCODING, at=111.0, percent=50.0)
    assert observations(encoding, progress) == []


def test_failures_and_retries_are_counted_by_code() -> None:
    encoding = apply(apply(fresh(), JobState.FETCHING, at=101.0, attempt=1), JobState.ENCODING, at=102.0)
    boom = Failure(code="ffmpeg_failed", retryable=True, message="x")
    requeued = apply(encoding, JobState.QUEUED, at=104.0, failure=boom)
    assert observations(encoding, requeued) == [PhaseTime("encoding", 2.0), Retried("ffmpeg_failed")]
    bad = Failure(code="source_rejected", retryable=False, message="y")
    failed = apply(encoding, JobState.FAILED, at=105.0, failure=bad)
    assert observations(encoding, failed) == [PhaseTime("encoding", 3.0), Failed("source_rejected")]


def test_redis_priority_queue_keys() -> None:
    assert redis_queue_keys("vodfleet.jobs", [0, 1, 2], ":") == ["vodfleet.jobs", "vodfleet.jobs:1", "vodfleet.jobs:2"]


def test_reserved_counts_unacked_entries_by_routing_key() -> None:
    values = ['[{"body": "x"}, "", "vodfleet.jobs"]', '[{}, "", "vodfleet.jobs"]', '[{}, "", "other"]', "junk"]
    assert reserved_by_queue(values) == {"vodfleet.jobs": 2, "other": 1}


def test_filesystem_message_files_per_queue() -> None:
    names = ["1_a.vodfleet.jobs.msg", "2_b.vodfleet.jobs.msg", "3_c.vodfleet.dead.msg", "x.tmp"]
    assert filesystem_counts(names, ["vodfleet.jobs", "vodfleet.dead"]) == {"vodfleet.jobs": 2, "vodfleet.dead": 1}


def test_queues_from_redis_binding_keys() -> None:
    from workers.queue.depth import queues_from_bindings

    keys = [b"_kombu.binding.vodfleet.jobs", b"_kombu.binding.vodfleet.jobs.06bb292f431e", "_kombu.binding.x"]
    assert queues_from_bindings(keys) == ["vodfleet.jobs", "vodfleet.jobs.06bb292f431e", "x"]

"""The job state machine and what a finished job means to a waiting submitter (pure)."""

from __future__ import annotations

import pytest

from pipelines.errors import CheckResult, PipelineError, QCFailed, SourceRejected
from workers.delivery.attempt import retry_delay
from workers.errors import AccessDenied, ObjectNotFound, SettingsInvalid, StorageUnavailable, WorkerError
from workers.exitcodes import (
    EXIT_CONFIG,
    EXIT_ENCODE_FAILED,
    EXIT_INPUT_REJECTED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_QC_FAILED,
)
from workers.exitcodes import exit_code as failure_exit_code
from workers.jobs.spec import JobSpec
from workers.jobs.state import FORWARD, TERMINAL, Failure, JobRecord, JobState, apply, can_transition, exit_code_for
from workers.settings import Settings

S = JobState
LEGAL = {
    (S.QUEUED, S.FETCHING), (S.FETCHING, S.PROBING), (S.PROBING, S.ENCODING), (S.ENCODING, S.ENCODING),
    (S.ENCODING, S.PACKAGING), (S.PACKAGING, S.QC), (S.QC, S.PUBLISHING), (S.PUBLISHING, S.PUBLISHED),
    (S.FETCHING, S.PUBLISHED), (S.PROBING, S.QC),  # forward skips (a phase the pipeline did not report)
    (S.ENCODING, S.QUEUED), (S.PUBLISHING, S.QUEUED), (S.FETCHING, S.QUEUED),  # requeued
    (S.QUEUED, S.FAILED), (S.ENCODING, S.FAILED), (S.QUEUED, S.CANCELLED), (S.QC, S.CANCELLED),
}
ILLEGAL = {
    (S.QUEUED, S.QUEUED), (S.QUEUED, S.ENCODING), (S.QUEUED, S.PUBLISHED), (S.ENCODING, S.PROBING),
    (S.PUBLISHED, S.QUEUED), (S.FAILED, S.QUEUED), (S.CANCELLED, S.FETCHING), (S.PUBLISHED, S.FAILED),
    (S.FAILED, S.FAILED), (S.PACKAGING, S.PACKAGING),
}


@pytest.mark.parametrize(("src", "dst"), sorted(LEGAL))
def test_legal(src: JobState, dst: JobState) -> None:
    assert can_transition(src, dst)


@pytest.mark.parametrize(("src", "dst"), sorted(ILLEGAL))
def test_illegal(src: JobState, dst: JobState) -> None:
    assert not can_transition(src, dst)


def test_terminal_states_are_final() -> None:
    for src in TERMINAL:
        assert not any(can_transition(src, dst) for dst in JobState)
    assert FORWARD[0] is S.QUEUED and FORWARD[-1] is S.PUBLISHED


def record(state: JobState = S.QUEUED, failure: Failure | None = None) -> JobRecord:
    return JobRecord(job_id="job-" + "a" * 24, spec=JobSpec(source="m/a.mp4", output_prefix="o/a"), state=state,
                     created=1.0, updated=1.0, failure=failure)


def test_apply_records_history_but_not_progress() -> None:
    r = apply(record(), S.FETCHING, at=2.0, attempt=1, detail="host:1")
    r = apply(r, S.ENCODING, at=3.0, percent=10.0, eta=9.0)
    r = apply(r, S.ENCODING, at=4.0, percent=50.0, eta=4.0)
    assert [(t.state, t.at, t.attempt) for t in r.history] == [(S.FETCHING, 2.0, 1), (S.ENCODING, 3.0, 1)]
    assert (r.percent, r.eta, r.updated) == (50.0, 4.0, 4.0)
    r = apply(r, S.PUBLISHED, at=5.0, output="file:///out")
    assert (r.percent, r.eta, r.output) == (100.0, None, "file:///out")
    with pytest.raises(ValueError, match="illegal transition published → queued"):
        apply(r, S.QUEUED, at=6.0)


@pytest.mark.parametrize(("state", "code", "expected"), [
    (S.PUBLISHED, None, EXIT_OK), (S.CANCELLED, None, EXIT_INTERRUPTED), (S.FAILED, None, EXIT_ENCODE_FAILED),
    (S.FAILED, EXIT_INPUT_REJECTED, EXIT_INPUT_REJECTED), (S.FAILED, EXIT_CONFIG, EXIT_CONFIG),
])
def test_exit_codes(state: JobState, code: int | None, expected: int) -> None:
    failure = Failure(code="x", retryable=False, message="m", exit_code=code) if code else None
    assert exit_code_for(record(state, failure)) == expected


@pytest.mark.parametrize(("error", "expected"), [
    (SourceRejected("a.mp4", "is truncated", hint="h", code="source_truncated"), EXIT_INPUT_REJECTED),
    (QCFailed([CheckResult("x", passed=False, detail="d")]), EXIT_QC_FAILED),
    (ObjectNotFound("gone"), EXIT_INPUT_REJECTED), (AccessDenied("no"), EXIT_CONFIG),
    (StorageUnavailable("later"), EXIT_ENCODE_FAILED),
])
def test_failure_exit_codes(error: PipelineError | WorkerError, expected: int) -> None:
    assert failure_exit_code(error) == expected


def test_retry_backoff_grows_and_is_capped() -> None:
    assert [retry_delay(a) for a in (1, 2, 3, 4, 9)] == [5.0, 20.0, 80.0, 320.0, 600.0]


def test_settings_validate_fields_and_derive_defaults(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VODFLEET_STATE_DIR", "/srv/vf")
    s = Settings()
    assert s.broker == "filesystem://localhost/"  # a host named: kombu warns on every clone of a hostless URL
    assert s.store == "sqlite:////srv/vf/jobs.sqlite"
    assert s.storage == "file:///srv/vf/storage"
    assert s.time_limits(10) == (pytest.approx(540.0), 600.0)
    assert s.time_limits(None)[1] == s.time_limit_max
    monkeypatch.setenv("VODFLEET_BROKER_URL", "kafka://x")
    with pytest.raises(SettingsInvalid, match=r"VODFLEET_BROKER_URL='kafka://x': .*filesystem://, redis://"):
        Settings()
    monkeypatch.setenv("VODFLEET_BROKER_URL", "filesystem://")
    assert Settings().broker == "filesystem://localhost/"
    monkeypatch.delenv("VODFLEET_BROKER_URL")
    monkeypatch.setenv("VODFLEET_CONCURRENCY", "0")
    with pytest.raises(SettingsInvalid, match="VODFLEET_CONCURRENCY='0'"):
        Settings()

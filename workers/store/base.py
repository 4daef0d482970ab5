"""The job state store: one narrow Protocol, two real backends (SQLite embedded, Redis for a fleet).

Backends keep each job as one record (JSON, history included) and update it with a read-modify-write
inside their own transaction (SQLite ``BEGIN IMMEDIATE``; Redis ``WATCH``/``MULTI``), so the pure
rules in `workers.jobs.state` decide every transition, atomically, across processes.

Leases (who is running a job right now) live here too: ``acquire`` succeeds for one owner until the
lease expires or is released; ``renew`` only for that owner; ``expired`` lists lapsed leases for the
watchdog and ``reclaim`` removes one such lease for exactly one caller; ``leases`` lists the live ones
(the work running right now: the exporter's running gauge and the autoscalers read it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from workers.errors import JobError
from workers.jobs.state import Failure, JobRecord, JobState, apply


class JobNotFound(JobError):
    code = "job_not_found"


class IllegalTransition(JobError):
    code = "illegal_transition"


@runtime_checkable
class JobStore(Protocol):
    url: str

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """Insert if the id is new; return (the stored record, whether it was created)."""
        ...
    def get(self, job_id: str) -> JobRecord | None: ...
    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord]) -> JobRecord:
        """Apply `change` atomically (raise JobNotFound for an unknown id; exceptions from `change` abort)."""
        ...
    def jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[JobRecord]:
        """Newest first."""
        ...
    def acquire(self, job_id: str, owner: str, ttl: float) -> bool: ...
    def renew(self, job_id: str, owner: str, ttl: float) -> bool: ...
    def release(self, job_id: str, owner: str) -> None: ...
    def expired(self) -> list[str]: ...
    def leases(self) -> dict[str, str]:
        """Live leases (not expired, not released): lease id (a job id or a part's lease) → owner."""
        ...
    def reclaim(self, job_id: str) -> bool: ...
    def close(self) -> None: ...


def open_store(url: str) -> JobStore:
    """``sqlite:////abs/path/jobs.sqlite`` or ``redis://host:port/db``."""
    if url.startswith("sqlite:///"):
        from workers.store.sqlite import SQLiteStore  # noqa: PLC0415 - the backend's driver loads on use

        return SQLiteStore(url)
    if url.startswith(("redis://", "rediss://")):
        from workers.store.redis import RedisStore  # noqa: PLC0415

        return RedisStore(url)
    raise JobError(f"store_url {url!r}: unsupported scheme", code="config_invalid",
                   hint="allowed: sqlite:////path/jobs.sqlite, redis://host:port/db")


def update_checked(store: JobStore, job_id: str, change: Callable[[JobRecord], JobRecord]) -> JobRecord:
    """`store.update` with a pure rule that raises ValueError when it does not apply → `IllegalTransition`."""
    def guarded(record: JobRecord) -> JobRecord:
        try:
            return change(record)
        except ValueError as exc:
            raise IllegalTransition(str(exc), hint="the job already moved on (another worker, or cancelled)") from exc

    return store.update(job_id, guarded)


def transition(store: JobStore, job_id: str, dst: JobState, *, detail: str = "", attempt: int | None = None,
               percent: float | None = None, eta: float | None = None, failure: Failure | None = None,
               output: str | None = None) -> JobRecord:
    return update_checked(store, job_id, lambda record: apply(
        record, dst, at=time.time(), attempt=attempt, detail=detail, percent=percent, eta=eta, failure=failure,
        output=output))


def begin_attempt(store: JobStore, job_id: str) -> int:
    """Count one more delivery that holds the lease; return the new attempt number."""
    record = store.update(job_id, lambda r: r.model_copy(update={"attempt": r.attempt + 1}))
    return record.attempt


def request_cancel(store: JobStore, job_id: str) -> JobRecord:
    """Flag the job; a queued job (or a chunked one between its chunks) is cancelled at once, a running one
    by its worker within a second (chunk tasks see the flag too and stop their ffmpegs)."""
    def change(record: JobRecord) -> JobRecord:
        flagged = record.model_copy(update={"cancel_requested": True})
        if record.state is JobState.QUEUED:
            return apply(flagged, JobState.CANCELLED, at=time.time(), detail="cancelled before it started")
        if record.chunks is not None and record.state is JobState.ENCODING:  # its chunk tasks stop on their own
            return apply(flagged, JobState.CANCELLED, at=time.time(), detail="cancelled while its chunks ran")
        return flagged

    return store.update(job_id, change)

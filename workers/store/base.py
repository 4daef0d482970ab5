"""The job state store: one narrow Protocol, two real backends (SQLite embedded, Redis for a fleet).

Backends keep each job as one record (JSON, history included) and update it with a read-modify-write
inside their own transaction (SQLite ``BEGIN IMMEDIATE``; Redis ``WATCH``/``MULTI``), so the pure
rules in `workers.jobs.state` decide every transition, atomically, across processes.

Leases (who is running a job right now) live here too: ``acquire`` succeeds for one owner until the
lease expires or is released; ``renew`` only for that owner; ``expired`` lists lapsed leases for the
watchdog and ``reclaim`` removes one such lease for exactly one caller; ``leases`` lists the live ones
(the work running right now: the exporter's running gauge and the autoscalers read it).

Errors: `workers.errors.JobNotFound` (an unknown id), `StoreUnavailable` (the backend cannot be reached; retryable).
Open a store with `workers.store.open_store`; change a record with `workers.store.ops`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from workers.jobs.state import JobRecord, JobState


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

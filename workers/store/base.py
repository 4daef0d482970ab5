"""The job state store: one narrow Protocol, two real backends (SQLite embedded, Redis for a fleet).

Backends keep each job as one record (JSON, history included) and update it with a read-modify-write
inside their own transaction (SQLite ``BEGIN IMMEDIATE``; Redis ``WATCH``/``MULTI``), so the pure
rules in `workers.jobs.state` decide every transition, atomically, across processes.

Leases (who is running a job right now) live here too: ``acquire`` succeeds for one owner until the
lease expires or is released; ``renew`` only for that owner; ``expired`` lists lapsed leases for the
watchdog and ``reclaim`` removes one such lease for exactly one caller; ``leases`` lists the live ones
(the work running right now: the exporter's running gauge and the autoscalers read it).

A write may carry a `Fence` (the lease id and owner of the attempt that makes it): the store checks, inside the
same transaction, that this owner still holds that lease (not released, not lapsed) and refuses the write with
`workers.errors.LeaseLost` otherwise, so an attempt frozen past its lease (SIGSTOP, swap, a long GC pause) cannot
write over the attempt that took the job over (the fencing rule of Kleppmann, "How to do distributed locking";
the owner string is unique per worker process, `workers.queue.tasks.worker_context`).

Errors: `workers.errors.JobNotFound` (an unknown id), `StoreUnavailable` (the backend cannot be reached; retryable),
`LeaseLost` (a fenced write refused).
Open a store with `workers.store.open_store`; change a record with `workers.store.ops`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from workers.errors import LeaseLost
from workers.jobs.state import JobRecord, JobState


@dataclass(frozen=True)
class Fence:
    """Who must hold which lease for a write to be accepted: `lease_id` (a job id, or a part's lease,
    `workers.jobs.board.part_lease`) held by `owner` now."""

    lease_id: str
    owner: str


def lease_lost(job_id: str, fence: Fence, holder: str | None) -> LeaseLost:
    """The error of a fenced write refused because `holder` (None: nobody) holds the lease, not the writer."""
    now = "nobody holds it now (it lapsed)" if holder is None or holder == fence.owner else f"{holder} holds it now"
    return LeaseLost(f"job {job_id}: write refused: {fence.owner} no longer holds lease {fence.lease_id}; {now}",
                     hint="nothing to do for this job (its new owner runs it); if it recurs, raise VODFLEET_LEASE_TTL")


@runtime_checkable
class JobStore(Protocol):
    url: str

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """Insert if the id is new; return (the stored record, whether it was created)."""
        ...
    def get(self, job_id: str) -> JobRecord | None: ...
    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord], *, fence: Fence | None = None) -> JobRecord:
        """Apply `change` atomically (raise JobNotFound for an unknown id; exceptions from `change` abort); with
        `fence`, only while its owner holds its lease (else raise LeaseLost and change nothing)."""
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

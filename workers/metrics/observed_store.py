"""ObservedStore: a JobStore that records metrics for every change it makes (see `workers.metrics.observation`).

It wraps the store a worker uses, so every transition a worker (or its watchdog) writes is observed once,
by the process that wrote it, after the change committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from workers.jobs.state import JobRecord, JobState
from workers.metrics import worker as metrics
from workers.metrics.observation import observations
from workers.store.base import Fence, JobStore

log = logging.getLogger(__name__)


class ObservedStore:
    def __init__(self, inner: JobStore) -> None:
        self.inner = inner
        self.url = inner.url

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        return self.inner.create(record)

    def get(self, job_id: str) -> JobRecord | None:
        return self.inner.get(job_id)

    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord], *, fence: Fence | None = None) -> JobRecord:
        seen: list[JobRecord] = []

        def observed(record: JobRecord) -> JobRecord:
            seen[:] = [record]  # an optimistic store may call this more than once: keep the last
            return change(record)

        after = self.inner.update(job_id, observed, fence=fence)
        try:
            metrics.record(observations(seen[0], after))
        except Exception:  # metrics must never fail a job
            log.exception("job %s: recording metrics failed", job_id)
        return after

    def jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[JobRecord]:
        return self.inner.jobs(state=state, limit=limit)

    def acquire(self, job_id: str, owner: str, ttl: float) -> bool:
        return self.inner.acquire(job_id, owner, ttl)

    def renew(self, job_id: str, owner: str, ttl: float) -> bool:
        return self.inner.renew(job_id, owner, ttl)

    def release(self, job_id: str, owner: str) -> None:
        self.inner.release(job_id, owner)

    def expired(self) -> list[str]:
        return self.inner.expired()

    def reclaim(self, job_id: str) -> bool:
        return self.inner.reclaim(job_id)

    def leases(self) -> dict[str, str]:
        return self.inner.leases()

    def close(self) -> None:
        self.inner.close()

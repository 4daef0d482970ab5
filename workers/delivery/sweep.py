"""A worker's sweeps: what dead or interrupted attempts left behind, removed at worker start and every watchdog
interval (the README's "Sweeps" section has the rules for operators).

    scratch folders     of attempts that hold no live lease               `workers.delivery.scratch`
    cached masters      of jobs that ended (or are unknown)               `workers.delivery.inputs.sweep_masters`
    kept encodes        of jobs that ended (or are unknown)               `workers.delivery.finished`
    partial versions    claimed, never committed, older than the grace    `workers.publish.sweep` (titles of the
                        period, their attempt not publishing now           store's recent jobs, every
                                                                           `VERSIONS_EVERY` s; and on each publish)
    processed messages  of the embedded broker, past their age or count   `workers.queue.processed`
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from workers.delivery.finished import sweep_finished
from workers.delivery.inputs import sweep_masters
from workers.delivery.scratch import sweep_scratch
from workers.errors import JobError, WorkerError
from workers.jobs.state import JobState
from workers.publish.sweep import sweep_quietly
from workers.queue.processed import prune_processed
from workers.settings import Settings
from workers.storage.base import Storage
from workers.store.base import JobStore

log = logging.getLogger(__name__)
VERSIONS_EVERY = 600.0  # seconds between two sweeps of the recent titles' versions by one worker
RECENT_JOBS = 200  # how many of the store's newest jobs name the titles swept


def publishing_now(store: JobStore) -> Callable[[str, int], bool]:
    """`publishing(job_id, attempt)` for the version sweep: that attempt of that job is ``publishing`` and its
    lease is live. A store that cannot answer counts as "yes" (nothing is swept on a guess)."""

    def publishing(job_id: str, attempt: int) -> bool:
        try:
            record = store.get(job_id)
            return (record is not None and record.state is JobState.PUBLISHING and record.attempt == attempt
                    and job_id in store.leases())
        except JobError:
            return True

    return publishing


@dataclass
class Sweeper:
    """Every sweep of one worker; `__call__` runs them (the watchdog's chore, and once at worker start)."""

    store: JobStore
    storage: Storage
    settings: Settings
    versions_every: float = VERSIONS_EVERY
    _versions_at: float = field(default=float("-inf"))

    def __call__(self) -> dict[str, int]:
        settings, now = self.settings, time.time()
        swept = {"scratch": len(sweep_scratch(self.store, settings.scratch, now=now)),
                 "masters": len(sweep_masters(self.store, settings)),
                 "kept_encodes": len(sweep_finished(self.store, settings)),
                 "processed_messages": prune_processed(settings, now=now), "versions": 0}
        if time.monotonic() - self._versions_at >= self.versions_every:
            self._versions_at = time.monotonic()
            swept["versions"] = self.sweep_versions(now)
        return swept

    def sweep_versions(self, now: float) -> int:
        """Sweep the abandoned versions of the titles the store's recent jobs publish to."""
        prefixes = sorted({record.spec.output_prefix for record in self.store.jobs(limit=RECENT_JOBS)})
        publishing = publishing_now(self.store)
        count = 0
        for prefix in prefixes:
            try:
                count += len(sweep_quietly(self.storage, prefix, now=now, grace=self.settings.claim_grace,
                                           publishing=publishing))
            except WorkerError as exc:  # (sweep_quietly logs storage errors; this: a bad prefix of an old record)
                log.warning("sweep: versions of %s: %s", prefix, exc)
        return count

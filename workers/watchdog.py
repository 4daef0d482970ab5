"""Watchdog: find jobs whose worker vanished (lease lapsed) and put them back in the queue.

Every worker runs one (a daemon thread); `reclaim` lets exactly one of them requeue a given job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from workers.errors import JobError
from workers.jobstate import RUNNING, TERMINAL, JobRecord, JobState
from workers.store import JobStore, transition

log = logging.getLogger(__name__)


def sweep(store: JobStore, enqueue: Callable[[JobRecord], object]) -> list[str]:
    """Requeue every job whose lease lapsed; return their ids."""
    requeued = []
    for job_id in store.expired():
        if not store.reclaim(job_id):
            continue  # renewed, re-acquired, or another watchdog got it
        record = store.get(job_id)
        if record is None or record.state in TERMINAL:
            continue
        if record.state in RUNNING:
            record = transition(store, job_id, JobState.QUEUED,
                                detail=f"lease expired (worker lost during attempt {record.attempt}); requeued")
        enqueue(record)
        log.warning("watchdog: job %s requeued after its lease expired", job_id)
        requeued.append(job_id)
    return requeued


class Watchdog:
    def __init__(self, store: JobStore, enqueue: Callable[[JobRecord], object], interval: float) -> None:
        self._store = store
        self._enqueue = enqueue
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vodfleet-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                sweep(self._store, self._enqueue)
            except JobError as exc:
                log.warning("watchdog: sweep failed: %s", exc)
            except Exception:  # a broker hiccup must not kill the watchdog thread
                log.exception("watchdog: sweep failed")

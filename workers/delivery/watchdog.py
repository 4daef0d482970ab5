"""Watchdog: find jobs whose worker vanished (lease lapsed) and put them back in the queue.

Every worker runs one (a daemon thread); `reclaim` lets exactly one of them requeue a given job. A lapsed
part lease (one chunk of a split-and-stitch job) sends that part again, alone. A chunked job whose parts
are all done but whose stitch message was lost with its worker (`stitch_after` seconds without a change)
gets its stitch sent again (a duplicate is harmless: the job's lease admits one).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from workers.errors import IllegalTransition, JobError
from workers.jobs.board import parse_part_lease
from workers.jobs.parts import requeue_part
from workers.jobs.state import RUNNING, TERMINAL, JobRecord, JobState
from workers.store.base import JobStore
from workers.store.ops import transition, update_checked

log = logging.getLogger(__name__)


def sweep(store: JobStore, enqueue: Callable[[JobRecord], object],
          enqueue_part: Callable[[JobRecord, int], object] | None = None, *, stitch_after: float = 60.0) -> list[str]:
    """Requeue every job (or chunk part) whose lease lapsed and re-send lost stitches; return their lease ids."""
    requeued = []
    for lease in store.expired():
        if not store.reclaim(lease):
            continue  # renewed, re-acquired, or another watchdog got it
        part = parse_part_lease(lease)
        if part is not None:
            if enqueue_part is not None and _requeue_part(store, *part, enqueue_part):
                requeued.append(lease)
            continue
        job_id = lease
        record = store.get(job_id)
        if record is None or record.state in TERMINAL:
            continue
        if record.state in RUNNING:
            record = transition(store, job_id, JobState.QUEUED,
                                detail=f"lease expired (worker lost during attempt {record.attempt}); requeued")
        enqueue(record)
        log.warning("watchdog: job %s requeued after its lease expired", job_id)
        requeued.append(job_id)
    return requeued + _resend_stitches(store, enqueue, stitch_after)


def _requeue_part(store: JobStore, job_id: str, index: int, enqueue_part: Callable[[JobRecord, int], object]) -> bool:
    try:
        record = update_checked(store, job_id, lambda r: requeue_part(r, index, at=time.time()))
    except IllegalTransition:
        return False  # the job ended, or moved on to its stitch
    enqueue_part(record, index)
    log.warning("watchdog: job %s part %d sent again after its lease expired", job_id, index)
    return True


def _resend_stitches(store: JobStore, enqueue: Callable[[JobRecord], object], after: float) -> list[str]:
    now = time.time()
    sent = []
    for record in store.jobs(state=JobState.ENCODING):
        if record.chunks is not None and record.chunks.complete and now - record.updated > after:
            enqueue(record)
            log.warning("watchdog: job %s: every part done %.0f s ago, stitch sent again", record.job_id,
                        now - record.updated)
            sent.append(record.job_id)
    return sent


class Watchdog:
    def __init__(self, store: JobStore, enqueue: Callable[[JobRecord], object], interval: float, *,
                 enqueue_part: Callable[[JobRecord, int], object] | None = None, stitch_after: float = 60.0,
                 also: Callable[[], object] | None = None) -> None:
        self._store = store
        self._enqueue = enqueue
        self._enqueue_part = enqueue_part
        self._stitch_after = stitch_after
        self._also = also  # one more periodic chore (the worker's cached-master sweep)
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
                sweep(self._store, self._enqueue, self._enqueue_part, stitch_after=self._stitch_after)
                if self._also is not None:
                    self._also()
            except JobError as exc:
                log.warning("watchdog: sweep failed: %s", exc)
            except Exception:  # a broker hiccup must not kill the watchdog thread
                log.exception("watchdog: sweep failed")

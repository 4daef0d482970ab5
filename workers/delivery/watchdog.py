"""Watchdog: find jobs whose worker vanished (lease lapsed) and put them back in the queue.

Every worker runs one (a daemon thread); `reclaim` lets exactly one of them requeue a given job. A lapsed
part lease (one chunk of a split-and-stitch job) sends that part again, alone. A chunked job whose parts
are all done but whose stitch message was lost with its worker (`stitch_after` seconds without a change)
gets its stitch sent again (a duplicate is harmless: the job's lease admits one).

A job or part left ``queued`` whose message is gone (a worker SIGKILLed between taking the message and taking the
lease: the embedded broker's taken message is then gone for good; or a broker that lost it) is found by
`resend_lost`: queued for `lost_after` seconds past when it was due (a retry is due after its backoff), no live
lease, and, where the broker can tell, no message waiting in its queue. It is sent again, once per `lost_after`
(the record's ``updated`` is moved on, compare-and-set, so that one watchdog of many sends it). A duplicate
costs nothing: the delivery kernel drops a message whose lease is held or whose record has nothing to run, and
counts an attempt only under the lease (`workers.delivery.attempt`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from workers.delivery.attempt import retry_delay
from workers.errors import IllegalTransition, JobError
from workers.jobs.board import PartState, parse_part_lease, part_lease
from workers.jobs.parts import requeue_part
from workers.jobs.state import RUNNING, TERMINAL, JobRecord, JobState
from workers.store.base import JobStore
from workers.store.ops import transition, update_checked

log = logging.getLogger(__name__)


def sweep(store: JobStore, enqueue: Callable[[JobRecord], object],
          enqueue_part: Callable[[JobRecord, int], object] | None = None, *, stitch_after: float = 60.0,
          lost_after: float | None = None, queue_idle: Callable[[JobRecord], bool] | None = None) -> list[str]:
    """Requeue every job (or chunk part) whose lease lapsed, re-send lost stitches and (with `lost_after`) lost
    messages (`resend_lost`); return their lease ids."""
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
    requeued += _resend_stitches(store, enqueue, stitch_after)
    if lost_after is not None:
        requeued += resend_lost(store, enqueue, enqueue_part, lost_after=lost_after, queue_idle=queue_idle)
    return requeued


class _Moved(Exception):
    """The record changed since the watchdog looked: another watchdog (or a worker) got there first."""


def due(record: JobRecord, attempts: int) -> float:
    """Unix time a queued job (or part) with `attempts` attempts behind it is due to be delivered (pure): at once,
    or after the backoff of a retry (`workers.delivery.attempt.retry_delay`)."""
    return record.updated + (retry_delay(attempts) if attempts > 0 else 0.0)


def lost_parts(record: JobRecord, leases: set[str]) -> list[int]:
    """The parts of a chunked job in `encoding` that are queued with no live lease (pure)."""
    if record.chunks is None or record.state is not JobState.ENCODING or record.chunks.complete:
        return []
    return [p.index for p in record.chunks.parts
            if p.state is PartState.QUEUED and part_lease(record.job_id, p.index) not in leases]


def resend_lost(store: JobStore, enqueue: Callable[[JobRecord], object],
                enqueue_part: Callable[[JobRecord, int], object] | None, *, lost_after: float,
                queue_idle: Callable[[JobRecord], bool] | None = None, now: float | None = None,
                limit: int = 10_000) -> list[str]:
    """Send again every job (and chunk part) queued without a message (see the module docstring); return their
    lease ids. `queue_idle(record)`: whether no message waits in the record's queue (None: the broker cannot tell,
    sent anyway; a duplicate is dropped)."""
    now = time.time() if now is None else now
    leases = set(store.leases())
    sent: list[str] = []
    for record in store.jobs(state=JobState.QUEUED, limit=limit):
        if record.job_id in leases or now < due(record, record.attempt) + lost_after:
            continue
        if queue_idle is not None and not queue_idle(record):
            continue
        if (claimed := _claim(store, record, JobState.QUEUED, now)) is None:
            continue
        enqueue(claimed)
        log.warning("watchdog: job %s queued %.0f s with no lease and no message: sent again", record.job_id,
                    now - record.updated)
        sent.append(record.job_id)
    if enqueue_part is None:
        return sent
    for record in store.jobs(state=JobState.ENCODING, limit=limit):
        parts = lost_parts(record, leases)
        if not parts or record.chunks is None:
            continue
        attempts = max(p.attempts for p in record.chunks.parts if p.index in parts)
        if now < due(record, attempts) + lost_after or (queue_idle is not None and not queue_idle(record)):
            continue
        if (claimed := _claim(store, record, JobState.ENCODING, now)) is None:
            continue
        for index in parts:
            enqueue_part(claimed, index)
            sent.append(part_lease(record.job_id, index))
        log.warning("watchdog: job %s: parts %s queued %.0f s with no lease and no message: sent again",
                    record.job_id, parts, now - record.updated)
    return sent


def _claim(store: JobStore, seen: JobRecord, state: JobState, now: float) -> JobRecord | None:
    """Move the record's ``updated`` on to `now` if it is still as `seen` (compare-and-set): None when it moved."""
    def change(current: JobRecord) -> JobRecord:
        if current.state is not state or current.updated != seen.updated:
            raise _Moved
        return current.model_copy(update={"updated": now})

    try:
        return store.update(seen.job_id, change)
    except _Moved:
        return None


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
                 lost_after: float | None = None, queue_idle: Callable[[JobRecord], bool] | None = None,
                 also: Callable[[], object] | None = None) -> None:
        self._store = store
        self._enqueue = enqueue
        self._enqueue_part = enqueue_part
        self._stitch_after = stitch_after
        self._lost_after, self._queue_idle = lost_after, queue_idle
        self._next_lost = 0.0  # monotonic time of the next lost-message scan (every lost_after / 4 s at most)
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
                lost_after = None
                if self._lost_after is not None and time.monotonic() >= self._next_lost:
                    lost_after, self._next_lost = self._lost_after, time.monotonic() + self._lost_after / 4
                sweep(self._store, self._enqueue, self._enqueue_part, stitch_after=self._stitch_after,
                      lost_after=lost_after, queue_idle=self._queue_idle)
                if self._also is not None:
                    self._also()
            except JobError as exc:
                log.warning("watchdog: sweep failed: %s", exc)
            except Exception:  # a broker hiccup must not kill the watchdog thread
                log.exception("watchdog: sweep failed")

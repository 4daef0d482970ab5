"""The fleet's two Celery tasks, kept thin: decode the message, call one function, map the outcome.

``run_job`` carries a job id (`workers.delivery.job`); ``run_part`` a job id and a part index (one chunk of a
split-and-stitch job, `workers.delivery.part`).

``REQUEUE`` (the worker is shutting down) rejects the message with requeue, so it goes back to the broker
unacknowledged; every other outcome acks it (the state store holds what happened). So does a state store
that cannot be reached (after a pause): acking then would lose the message while the store still says the
job or part waits for it.

A worker registers them on its app (`register`), with the context it built once (`worker_context`); before a
delivery runs, the worker re-checks the job's encoder pin (`admit`) and sends a misrouted job back to its queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator

from celery import Task
from celery.exceptions import Reject

from workers.delivery import faults
from workers.delivery.context import Context, Outcome
from workers.delivery.job import run_job
from workers.delivery.part import run_part
from workers.errors import StoreUnavailable
from workers.jobs.state import JobRecord
from workers.metrics.observed_store import ObservedStore
from workers.queue import send
from workers.queue.app import FleetApp
from workers.queue.names import RUN_JOB, RUN_PART
from workers.queue.routing import admits, queue_for
from workers.storage import storage_for
from workers.store import open_store

log = logging.getLogger(__name__)
JOB_ID = re.compile(r"job-[0-9a-f]{24}")
STORE_DOWN_PAUSE = 2.0  # seconds before a message is handed back because the state store is unreachable
MISROUTED_DELAY = 5.0  # seconds before a misrouted job is offered again (no hot loop on a bad config)


def worker_context(app: FleetApp) -> Context:
    """A worker's long-lived context: its store (recording metrics), storage, owner name, shutdown flag, senders."""
    settings = app.settings

    def enqueue(record: JobRecord, countdown: float) -> object:
        return send.enqueue(app, record, countdown=countdown)

    def dead_letter(record: JobRecord) -> object:
        return send.enqueue(app, record, dead=True)

    def enqueue_part(record: JobRecord, index: int, countdown: float) -> object:
        return send.enqueue_part(app, record, index, countdown=countdown)

    return Context(settings=settings, store=ObservedStore(open_store(settings.store)), storage=storage_for(settings),
                   owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}",
                   shutdown=threading.Event(), enqueue=enqueue, dead_letter=dead_letter, enqueue_part=enqueue_part)


def decode(body: object) -> str | None:
    """The job id carried by a message, or None if it is not one (pure)."""
    return body if isinstance(body, str) and JOB_ID.fullmatch(body) else None


def decode_part(job_id: object, index: object) -> tuple[str, int] | None:
    """(job id, part index) of a run_part message, or None if it is not one (pure)."""
    decoded = decode(job_id)
    if decoded is None or isinstance(index, bool) or not isinstance(index, int) or not -1 <= index < 100_000:
        return None
    return decoded, index


def admit(app: FleetApp, record: JobRecord | None, part: int | None = None) -> bool:
    """The worker's own re-check before encoding; a misrouted job (or `part` of it) goes back to its queue
    (after a delay). Returns True when this worker may run the job (or there is nothing to check: unknown job)."""
    own = app.fingerprint
    if record is None or own is None or admits(record, own):
        return True
    log.error("job %s is pinned to encoder %s; this worker is %s: not encoding it, sent back to %s",
              record.job_id, record.encoder, own.value, queue_for(record.encoder))
    if part is None:
        send.enqueue(app, record, countdown=MISROUTED_DELAY)
    else:
        send.enqueue_part(app, record, part, countdown=MISROUTED_DELAY)
    return False


@contextlib.contextmanager
def handed_back_if_store_down(what: str) -> Iterator[None]:
    """Turn an unreachable state store into a message handed back to the broker (after a pause, so a store
    that stays down does not make a hot loop of deliveries)."""
    try:
        yield
    except StoreUnavailable as exc:
        log.warning("%s: the state store is unreachable (%s); message handed back in %.0f s", what, exc,
                    STORE_DOWN_PAUSE)
        time.sleep(STORE_DOWN_PAUSE)
        raise Reject(f"{what}: state store unreachable", requeue=True) from exc


def register(app: FleetApp, context: Context) -> None:
    """Register ``run_job`` and ``run_part`` on the worker's Celery app; both run with `context`."""

    @app.celery.task(name=RUN_JOB, bind=True, acks_late=True, reject_on_worker_lost=True)
    def run_job_task(_task: Task[[object], str], job_id: object) -> str:
        decoded = decode(job_id)
        if decoded is None:
            log.error("dropping a message that carries no job id: %r", job_id)
            return Outcome.DROPPED.value
        faults.taken("taken")  # test-only hook: a no-op unless VODFLEET_FAULT_KILL_WORKER_AT=taken
        with handed_back_if_store_down(f"job {decoded}"):
            if not admit(app, context.store.get(decoded)):  # pinned to another encoder
                return Outcome.DROPPED.value
            outcome = run_job(decoded, context)
        if outcome is Outcome.REQUEUE:
            raise Reject(f"job {decoded}: worker shutting down", requeue=True)
        return outcome.value

    @app.celery.task(name=RUN_PART, bind=True, acks_late=True, reject_on_worker_lost=True)
    def run_part_task(_task: Task[[object, object], str], job_id: object, index: object) -> str:
        decoded = decode_part(job_id, index)
        if decoded is None:
            log.error("dropping a part message that carries no job id and part: %r %r", job_id, index)
            return Outcome.DROPPED.value
        faults.taken("taken-part")  # test-only hook: a no-op unless VODFLEET_FAULT_KILL_WORKER_AT=taken-part
        with handed_back_if_store_down(f"job {decoded[0]} part {decoded[1]}"):
            if not admit(app, context.store.get(decoded[0]), decoded[1]):  # pinned to another encoder
                return Outcome.DROPPED.value
            outcome = run_part(*decoded, context)
        if outcome is Outcome.REQUEUE:
            raise Reject(f"job {decoded[0]} part {decoded[1]}: worker shutting down", requeue=True)
        return outcome.value

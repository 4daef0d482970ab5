"""Routing by encoder: one queue per fingerprint, so a job pinned to an encoder is only encoded by it.

    submit (fingerprint F of the submitter's encoder, stored in the job record as ``encoder``)
       └─► queue ``vodfleet.jobs.<short F>``  ◄── consumed only by workers whose own fingerprint is F
    worker: before encoding, compares its fingerprint with the record's; a misrouted job is sent back to
            its own queue (and this delivery acked), never encoded here.

Jobs without a pinned encoder (records from before pinning) stay on ``vodfleet.jobs``, which every worker
also consumes. The dead-letter queue is not routed by encoder.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from workers.fingerprint import Fingerprint, short
from workers.jobs.state import JobRecord
from workers.queue.app import JOBS_QUEUE

log = logging.getLogger(__name__)
QUEUE_PREFIX = JOBS_QUEUE + "."
MISROUTED_DELAY = 5.0  # seconds before a misrouted job is offered again (no hot loop on a bad config)


def queue_for(encoder: str | None) -> str:
    """The queue of jobs pinned to `encoder` (a ``sha256:`` fingerprint); unpinned → ``vodfleet.jobs`` (pure)."""
    return QUEUE_PREFIX + short(encoder) if encoder else JOBS_QUEUE


def worker_queues(own: Fingerprint) -> list[str]:
    """What a worker with this fingerprint consumes: its own queue, then the unpinned one (pure)."""
    return [queue_for(own.value), JOBS_QUEUE]


def foreign_queues(queues: list[str], own: Fingerprint) -> list[str]:
    """Queues in `queues` that belong to another encoder's fingerprint (pure): a worker refuses them."""
    mine = queue_for(own.value)
    return [q for q in queues if q.startswith(QUEUE_PREFIX) and q != mine]


def fingerprint_of_queue(queue: str) -> str | None:
    """``vodfleet.jobs.<short>`` → ``<short>``; any other queue → None (pure)."""
    return queue.removeprefix(QUEUE_PREFIX) if queue.startswith(QUEUE_PREFIX) else None


def admits(record: JobRecord, own: Fingerprint) -> bool:
    """May a worker with fingerprint `own` encode this job? Unpinned jobs: anyone (pure)."""
    return record.encoder is None or record.encoder == own.value


def admit(app: Any, record: JobRecord | None, part: int | None = None) -> bool:
    """The worker's own re-check before encoding; a misrouted job (or `part` of it) goes back to its queue
    (after a delay).

    Returns True when this worker may run the job (or there is nothing to check: unknown job)."""
    own: Fingerprint | None = getattr(app, "vodfleet_fingerprint", None)
    if record is None or own is None or admits(record, own):
        return True
    from workers.queue.send import enqueue, enqueue_part  # noqa: PLC0415 - dispatch imports this module

    log.error("job %s is pinned to encoder %s; this worker is %s: not encoding it, sent back to %s",
              record.job_id, record.encoder, own.value, queue_for(record.encoder))
    if part is None:
        enqueue(app, record, countdown=MISROUTED_DELAY)
    else:
        enqueue_part(app, record, part, countdown=MISROUTED_DELAY)
    return False


# --- what the live workers say about their encoder (Celery remote control) ---------------------------------

ENCODER_COMMAND = "vodfleet_encoder"


def register_control() -> None:
    """Teach Celery workers (in this process) to answer ``vodfleet_encoder`` with their fingerprint."""
    from celery.worker.control import inspect_command  # type: ignore[import-untyped]  # noqa: PLC0415

    @inspect_command(name=ENCODER_COMMAND)  # type: ignore[untyped-decorator]
    def _encoder(state: Any, **_kwargs: object) -> dict[str, object]:
        own: Fingerprint | None = getattr(state.consumer.app, "vodfleet_fingerprint", None)
        return {"fingerprint": None} if own is None else own.to_dict()


def live_encoders(app: Any, timeout: float) -> dict[str, dict[str, object]]:
    """{worker hostname: its fingerprint dict} for every worker that answers within `timeout` seconds.

    Workers that do not know the command (older versions) are described by the queues they consume."""
    from celery.exceptions import DuplicateNodenameWarning  # type: ignore[import-untyped]  # noqa: PLC0415

    replies: dict[str, dict[str, object]] = {}
    with warnings.catch_warnings():  # workers on a host network may share a node name: report them all the same
        warnings.simplefilter("ignore", DuplicateNodenameWarning)
        broadcast = app.control.broadcast(ENCODER_COMMAND, reply=True, timeout=timeout) or []
        queues = app.control.inspect(timeout=timeout).active_queues() or {}
    for reply in broadcast:
        for host, answer in reply.items():
            if isinstance(answer, dict) and "error" not in answer:
                replies[host] = answer
    for host, consumed in queues.items():
        if host not in replies:
            shorts = [s for q in consumed if (s := fingerprint_of_queue(str(q.get("name", ""))))]
            replies[host] = {"fingerprint": None, "queues_for": shorts}
    return replies

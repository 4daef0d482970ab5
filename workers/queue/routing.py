"""Routing by encoder: one queue per fingerprint, so a job pinned to an encoder is only encoded by it.

    submit (fingerprint F of the submitter's encoder, stored in the job record as ``encoder``)
       └─► queue ``vodfleet.jobs.<short F>``  ◄── consumed only by workers whose own fingerprint is F
    worker: before encoding, compares its fingerprint with the record's; a misrouted job is sent back to
            its own queue (and this delivery acked), never encoded here.

Jobs without a pinned encoder (records from before pinning) stay on ``vodfleet.jobs``, which every worker
also consumes. The dead-letter queue is not routed by encoder. All pure: the worker's re-check that sends a
misrouted job back is in `workers.queue.tasks`, what live workers say about their encoder in `workers.queue.control`.
"""

from __future__ import annotations

import logging

from workers.fingerprint import Fingerprint, short
from workers.jobs.state import JobRecord
from workers.queue.names import JOBS_QUEUE

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

"""What one worker hands each delivery (`Context`) and what a delivery tells its task (`Outcome`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from workers.jobs.state import JobRecord
from workers.settings import Settings
from workers.storage.base import Storage
from workers.store.base import JobStore


class Outcome(StrEnum):
    """What the task does with the message that brought the delivery."""

    DONE = "done"  # published, failed for good, or cancelled: ack
    DROPPED = "dropped"  # nothing to do here (finished, unknown, leased elsewhere): ack
    RETRY = "retry"  # requeued with a backoff: ack this message (a new one was sent)
    REQUEUE = "requeue"  # the worker is shutting down: reject with requeue


@dataclass(frozen=True)
class Context:
    """One worker's long-lived handles (built once by `workers.queue.tasks.worker_context`)."""

    settings: Settings
    store: JobStore
    storage: Storage
    owner: str  # "<host>:<pid>:<random>": who holds a lease
    shutdown: threading.Event
    enqueue: Callable[[JobRecord, float], object]  # (record, countdown)
    dead_letter: Callable[[JobRecord], object]
    enqueue_part: Callable[[JobRecord, int, float], object]  # (record, part index, countdown)
    # set by any SIGTERM, a drain's too (`shutdown` only when the running work must stop): a delivery that
    # starts after it hands its message back at once, before the lease and before an attempt is counted
    stopping: threading.Event = field(default_factory=threading.Event)

    def stopping_now(self) -> bool:
        """Whether this worker is stopping (SIGTERM, drain or not): it starts no new attempt."""
        return self.stopping.is_set() or self.shutdown.is_set()

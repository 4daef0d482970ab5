"""LeaseKeeper: while a job runs, keep its lease alive and turn outside events into one cancel signal.

A background thread renews the lease every ttl/3 and, every `poll` seconds, checks whether the job was
cancelled (`vodfleet cancel`) or ended elsewhere, the worker is shutting down (SIGTERM) or the hard time
limit passed.
Any of these, or a renewal that fails (the lease lapsed and another worker may own the job now), sets
`cancel` (the pipeline's runner then kills ffmpeg's process group) and records why in `reason`.
"""

from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum
from types import TracebackType

from workers.errors import JobError
from workers.jobs.state import TERMINAL
from workers.store.base import JobStore

log = logging.getLogger(__name__)


class StopReason(StrEnum):
    SHUTDOWN = "shutdown"
    CANCELLED = "cancelled"
    LEASE_LOST = "lease_lost"
    TIMEOUT = "timeout"


class LeaseKeeper:
    def __init__(self, store: JobStore, job_id: str, owner: str, ttl: float, *, shutdown: threading.Event,
                 hard_limit: float, poll: float = 0.25, lease_id: str | None = None) -> None:
        self.store = store
        self.job_id = job_id
        self.lease_id = lease_id or job_id  # a chunk task holds its part's lease (workers.jobs.board.part_lease)
        self.owner = owner
        self.ttl = ttl
        self.cancel = threading.Event()
        self.reason: StopReason | None = None
        self._shutdown = shutdown
        self._deadline = time.monotonic() + hard_limit
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{job_id}", daemon=True)

    def stop_for(self, reason: StopReason) -> None:
        if self.reason is None:
            self.reason = reason
            log.warning("job %s: stopping (%s)", self.job_id, reason)
        self.cancel.set()

    def check(self) -> None:
        """One round of the checks that do not renew (also called once before work starts)."""
        if self._shutdown.is_set():
            self.stop_for(StopReason.SHUTDOWN)
        elif time.monotonic() > self._deadline:
            self.stop_for(StopReason.TIMEOUT)
        else:
            record = self.store.get(self.job_id)
            if record is not None and record.cancel_requested:
                self.stop_for(StopReason.CANCELLED)
            elif record is None or record.state in TERMINAL:  # ended elsewhere (e.g. another chunk failed it)
                self.stop_for(StopReason.LEASE_LOST)

    def _loop(self) -> None:
        next_renew = time.monotonic() + self.ttl / 3
        while not self._stop.wait(self._poll):
            try:
                self.check()
                if time.monotonic() >= next_renew:
                    next_renew = time.monotonic() + self.ttl / 3
                    if not self.store.renew(self.lease_id, self.owner, self.ttl):
                        self.stop_for(StopReason.LEASE_LOST)
            except JobError as exc:  # the store is unreachable: keep trying until the lease would lapse
                log.warning("job %s: lease check failed: %s", self.job_id, exc)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

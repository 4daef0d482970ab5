"""The pipeline's events → the job record: phases and (throttled) percent written to the store, never raising."""

from __future__ import annotations

import logging
import time

from pipelines.transcode import Event
from workers.delivery import faults
from workers.delivery.context import Context
from workers.delivery.lease import LeaseKeeper, StopReason
from workers.errors import StoreUnavailable, WorkerError
from workers.jobs.state import JobState
from workers.store.base import Fence
from workers.store.ops import transition

log = logging.getLogger(__name__)

PHASES = {"probing": JobState.PROBING, "encoding": JobState.ENCODING, "packaging": JobState.PACKAGING,
          "qc": JobState.QC}
PROGRESS_EVERY = 1.0  # seconds between percent writes


class StateWriter:
    """``on_event`` for `pipelines.transcode`: each phase once, percent and ETA at most every PROGRESS_EVERY s.

    A store that cannot be reached now is logged and skipped (the lease keeper stops the job if the lease lapses);
    a refused write (the job moved on elsewhere) stops the attempt as LEASE_LOST."""

    def __init__(self, ctx: Context, job_id: str, attempt: int, keeper: LeaseKeeper, *,
                 stitching: bool = False) -> None:
        self._ctx, self._job_id, self._attempt, self._keeper = ctx, job_id, attempt, keeper
        self._fence = Fence(keeper.lease_id, keeper.owner)  # a write after the lease is another's is refused
        self._last = 0.0
        self._state: JobState | None = None
        self._skip = (JobState.PROBING, JobState.ENCODING) if stitching else ()  # (a stitch re-probes, encodes nothing)

    def __call__(self, event: Event) -> None:
        dst = PHASES.get(event.phase)
        if dst is None or dst in self._skip:
            return
        now = time.monotonic()
        if dst == self._state and (event.progress is None or now - self._last < PROGRESS_EVERY):
            return
        self._last = now
        try:
            p = event.progress
            transition(self._ctx.store, self._job_id, dst, attempt=self._attempt,
                       percent=p.percent if p else None, eta=p.eta if p else None, fence=self._fence)
            self._state = dst
            faults.reached(dst.value)  # test-only hook: a no-op unless VODFLEET_FAULT_KILL_WORKER_AT is set
        except StoreUnavailable as exc:  # a blip (store restarting): keep encoding; the lease keeper
            log.warning("job %s: cannot record %s now: %s", self._job_id, dst, exc)  # stops us if it lapses
        except WorkerError as exc:
            log.warning("job %s: cannot record %s: %s", self._job_id, dst, exc)  # the job moved on elsewhere (or
            # its lease is another's: LeaseLost)
            self._keeper.stop_for(StopReason.LEASE_LOST)

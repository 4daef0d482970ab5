"""How a job record changes: the four ways, each for one purpose (every one is one atomic `JobStore.update`).

    transition(store, id, dst, ...)      a state move by the rules of `workers.jobs.state` (queued → fetching, ...)
    update_checked(store, id, change)    any other pure rule (`workers.jobs.parts`: a part begins, ends, is requeued);
                                         a rule's ValueError becomes `IllegalTransition`
    begin_attempt(store, id)             count one more delivery that holds the job's lease
    request_cancel(store, id)            flag a cancel (a queued job is cancelled at once)

A delivery passes its `Fence` (lease id and owner) to every write of its attempt: the store refuses the write
with `LeaseLost` once the lease is another's (`workers.store.base`; the kernel drops the attempt,
`workers.delivery.attempt`).

Raises `workers.errors.JobNotFound`, `IllegalTransition`, `StoreUnavailable`, `LeaseLost`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from workers.errors import IllegalTransition
from workers.jobs.state import Failure, JobRecord, JobState, apply
from workers.store.base import Fence, JobStore


def update_checked(store: JobStore, job_id: str, change: Callable[[JobRecord], JobRecord], *,
                   fence: Fence | None = None) -> JobRecord:
    """`store.update` with a pure rule that raises ValueError when it does not apply → `IllegalTransition`."""
    def guarded(record: JobRecord) -> JobRecord:
        try:
            return change(record)
        except ValueError as exc:
            raise IllegalTransition(str(exc), hint="the job already moved on (another worker, or cancelled)") from exc

    return store.update(job_id, guarded, fence=fence)


def transition(store: JobStore, job_id: str, dst: JobState, *, detail: str = "", attempt: int | None = None,
               percent: float | None = None, eta: float | None = None, failure: Failure | None = None,
               output: str | None = None, fence: Fence | None = None) -> JobRecord:
    return update_checked(store, job_id, lambda record: apply(
        record, dst, at=time.time(), attempt=attempt, detail=detail, percent=percent, eta=eta, failure=failure,
        output=output), fence=fence)


def begin_attempt(store: JobStore, job_id: str, *, fence: Fence | None = None) -> int:
    """Count one more delivery that holds the lease; return the new attempt number."""
    record = store.update(job_id, lambda r: r.model_copy(update={"attempt": r.attempt + 1}), fence=fence)
    return record.attempt


def request_cancel(store: JobStore, job_id: str) -> JobRecord:
    """Flag the job; a queued job (or a chunked one between its chunks) is cancelled at once, a running one
    by its worker within a second (chunk tasks see the flag too and stop their ffmpegs)."""
    def change(record: JobRecord) -> JobRecord:
        flagged = record.model_copy(update={"cancel_requested": True})
        if record.state is JobState.QUEUED:
            return apply(flagged, JobState.CANCELLED, at=time.time(), detail="cancelled before it started")
        if record.chunks is not None and record.state is JobState.ENCODING:  # its chunk tasks stop on their own
            return apply(flagged, JobState.CANCELLED, at=time.time(), detail="cancelled while its chunks ran")
        return flagged

    return store.update(job_id, change)

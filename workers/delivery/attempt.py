"""The delivery kernel: one delivery of a job or of one part of a chunked job, under a lease.

    deliver(unit, ctx)
      the worker is stopping (SIGTERM, drain) ─────────────────────────────────► REQUEUE  (nothing counted)
      take the lease (unit.lease_id) ──── held by another worker ─────────────► DROPPED
      unit.prepare()  (re-read under the lease) ──── nothing to do ───────────► DROPPED
      stopping now? ─────────────────────────────────────────────────────────► REQUEUE  (nothing counted)
      unit.count_attempt()  the ONE place an attempt is counted ── refused ───► DROPPED
      exhausted(attempt, budget) ─► unit.exhaust(attempt), then the dead letter ──► DONE
      cancel requested ─► unit.cancel(started=False) ─────────────────────────► DONE
      run(): LeaseKeeper (renews, stops on cancel/shutdown/lease lost/time limit) + own scratch folder
        └─ unit.work(attempt, scratch, keeper) ─► unit.finish(result)
           error, and the keeper stopped it ─► after_stop(reason):
               SHUTDOWN ─► unit.hand_back() ─► REQUEUE      CANCELLED ─► unit.cancel(started=True) ─► DONE
               LEASE_LOST ─► unit.lost() ─► DROPPED          TIMEOUT ─► a time_limit failure, settled as below
           any other error ─► failure_of(exc) ─► decide(failure, attempt, budget):
               Retry(delay) ─► unit.retry(failure, delay) ─► RETRY     GiveUp(failure) ─► unit.give_up ─► DONE
      release the lease
    any write refused by the lease fence (LeaseLost: the lease is another's) ─► unit.lost() ─► DROPPED

The decisions are pure and tested on tables (`failure_of`, `decide`, `after_stop`, `retry_delay`, `exhausted`);
`deliver` and `run` only sequence the effects. What differs between a job and a part is a `Unit`, in
`workers.delivery.job` and `workers.delivery.part`.

Where each rule lives, for both kinds at once: the lease is taken and released in `deliver` (``ctx.store.acquire``
/ ``release``) and kept alive by the `LeaseKeeper` in `run`; the attempt is counted in `deliver` by
``unit.count_attempt()`` and nowhere else; every state write of an attempt goes through the unit's methods
(``hand_back``, ``cancel``, ``retry``, ``give_up``, ``exhaust``, ``finish``) and `workers.delivery.progress`, each
with the unit's ``fence`` (`workers.store.base.Fence`: its lease id and this worker's owner), so a write once the
lease is another's is refused by the store (`workers.errors.LeaseLost`) and the attempt is dropped here.

The rules of delivery (README "What the fleet guarantees"): an attempt is counted only when work is about to start
(after the lease, after `prepare`, never by a stopping worker); a hand-back (SIGTERM, a drain past its timeout) keeps
the attempt of the work it stopped and counts nothing more; a taken message whose worker died before the lease is
re-sent by the watchdog (`workers.delivery.watchdog`); a duplicate message is dropped (lease held, or nothing to run).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from pipelines.errors import Cancelled, CodedError, PipelineError
from workers.delivery.context import Context, Outcome
from workers.delivery.lease import LeaseKeeper, StopReason
from workers.delivery.outage import OUTAGE_CODES, outage_delay
from workers.delivery.scratch import open_scratch
from workers.errors import LeaseLost, WorkerError
from workers.exitcodes import exit_for
from workers.jobs.state import Failure

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal_error"
T = TypeVar("T")  # what a unit's work returns to its finish


# --- the pure decisions ----------------------------------------------------------------------------------------

def retry_delay(attempt: int) -> float:
    """Backoff before attempt `attempt + 1` (pure): 5 s, 20 s, 80 s, … capped at 10 minutes."""
    return float(min(600, 5 * 4 ** max(0, attempt - 1)))


def failure_for(code: str, message: str, *, retryable: bool, hint: str = "") -> Failure:
    """A Failure for a code of docs/errors.md, its exit code from the one table (`workers.exitcodes`) (pure)."""
    return Failure(code=code, retryable=retryable, message=message, hint=hint, exit_code=exit_for(code))


def failure_of(exc: BaseException) -> Failure:
    """The Failure an error that ends an attempt is recorded as (pure). Our errors keep their code, message,
    hint and retryability; anything else is an ``internal_error``, retried (a bug or an untranslated third-party
    error: retried, then failed with evidence)."""
    if isinstance(exc, PipelineError | WorkerError):
        return failure_for(exc.code, exc.message, retryable=exc.retryable, hint=exc.hint)
    return failure_for(INTERNAL_ERROR, repr(exc), retryable=True, hint="report this with the worker's log")


def exhausted(attempt: int, budget: int) -> bool:
    """Whether a delivery counted as attempt `attempt` is past a budget of `budget` attempts (pure): every
    earlier delivery was lost (its worker killed or stopped) without settling the attempt."""
    return attempt > budget


@dataclass(frozen=True)
class Retry:
    delay: float  # seconds before the message is offered again
    failure: Failure


@dataclass(frozen=True)
class GiveUp:
    failure: Failure  # what the job (or its part) fails with; a retryable one says after how many attempts


def decide(error: Failure, attempt: int, budget: int, *, outage: float | None = None,
           outage_budget: float = 0.0) -> Retry | GiveUp:
    """Retry or give up after attempt `attempt` (1-based) of `budget` failed with `error` (pure): a retryable
    failure with attempts left is retried after `retry_delay`; a permanent one, or one out of attempts, is not.

    A storage or store outage (`outage`: seconds it has lasted, `workers.delivery.outage`) is retried while it
    is shorter than `outage_budget` seconds (VODFLEET_STORAGE_OUTAGE_BUDGET), whatever the attempt count, after
    `outage_delay`; past the budget it is given up, saying how long it lasted."""
    if outage is not None and error.retryable and error.code in OUTAGE_CODES:
        if outage < outage_budget:
            return Retry(outage_delay(outage), error)
        return GiveUp(error.model_copy(update={"message": f"{error.message} (storage outage of {outage / 60:.1f} "
                                                          f"min, past the budget of {outage_budget / 60:.0f} min)"}))
    if error.retryable and attempt < budget:
        return Retry(retry_delay(attempt), error)
    if error.retryable:
        return GiveUp(error.model_copy(update={"message": f"{error.message} (after {attempt} attempts)"}))
    return GiveUp(error)


def stopped_by(exc: BaseException, reason: StopReason | None) -> bool:
    """Whether `exc` ends an attempt that its lease keeper stopped (cancel, shutdown, lease lost, time limit)
    (pure): the runner's Cancelled, or any of our errors raised once the keeper had a reason."""
    return isinstance(exc, Cancelled) or (reason is not None and isinstance(exc, CodedError))


class StopAction(StrEnum):
    HAND_BACK = "hand_back"  # the worker is shutting down: back to the queue, the message rejected with requeue
    CANCEL = "cancel"  # `vodfleet cancel`
    LOST = "lost"  # another worker owns it now (or it ended elsewhere): its state is theirs to write


def after_stop(reason: StopReason | None, exc: BaseException, *, what: str, hint: str) -> StopAction | Failure:
    """What a stopped attempt becomes (pure): an action, or a Failure to settle by `decide` (a time limit:
    retryable; a Cancelled without a reason: permanent). `what` names the job or part in the message."""
    if reason is StopReason.SHUTDOWN:
        return StopAction.HAND_BACK
    if reason is StopReason.CANCELLED:
        return StopAction.CANCEL
    if reason is StopReason.LEASE_LOST:
        return StopAction.LOST
    if reason is StopReason.TIMEOUT:
        return failure_for("time_limit", f"{what} ran past its hard time limit ({exc})", retryable=True, hint=hint)
    return failure_for("cancelled", str(exc), retryable=False)


# --- what differs between a job and a part -----------------------------------------------------------------------

class Unit(Protocol[T]):
    """One job, or one part of a chunked job, as the kernel sees it (`workers.delivery.job`, `.part`)."""

    job_id: str
    lease_id: str  # the job id, or the part's lease (`workers.jobs.board.part_lease`)
    what: str  # "the job" / "chunk 3": how messages name it
    scratch_prefix: str  # the scratch folder's name starts with it
    time_limit_hint: str

    def hard_limit(self) -> float:
        """Seconds this attempt may run (the task's hard time limit)."""
        ...

    def prepare(self) -> bool:
        """Re-read the record under the lease; False: nothing to run (ended, or waiting for its parts)."""
        ...

    def count_attempt(self) -> int | None:
        """Count this delivery as an attempt; return its number (None: the record refused it)."""
        ...

    def budget(self) -> int:
        """How many attempts this unit may have."""
        ...

    def outage(self, error: Failure) -> float | None:
        """Seconds the storage outage `error` belongs to has lasted (None: not an outage, or not tracked)."""
        ...

    def cancel_requested(self) -> bool: ...

    def exhaust(self, attempt: int) -> Outcome:
        """Fail with ``attempts_exhausted``, naming the unit (the kernel then sends the dead letter)."""
        ...

    def work(self, attempt: int, scratch: Path, keeper: LeaseKeeper) -> T:
        """The attempt itself; raises to end it."""
        ...

    def finish(self, result: T, attempt: int) -> Outcome: ...

    def stopped(self, reason: StopReason | None) -> None:
        """Told of every stop before it is acted on (metrics)."""
        ...

    def hand_back(self, attempt: int) -> None: ...

    def cancel(self, attempt: int, *, started: bool) -> Outcome: ...

    def lost(self) -> None: ...

    def retry(self, error: Failure, attempt: int, delay: float) -> Outcome: ...

    def give_up(self, error: Failure, attempt: int) -> Outcome: ...

    def dead_letter(self) -> None:
        """Send the job to the dead-letter queue (its attempts ran out)."""
        ...


# --- the effects, in order ---------------------------------------------------------------------------------------

def deliver(unit: Unit[T], ctx: Context) -> Outcome:
    """One delivery: lease, count, exhausted?, cancelled?, run, release (see the module's drawing)."""
    if ctx.stopping_now():
        log.info("job %s: %s: the worker is stopping; message handed back untouched", unit.job_id, unit.what)
        return Outcome.REQUEUE
    if not ctx.store.acquire(unit.lease_id, ctx.owner, ctx.settings.lease_ttl):
        log.info("job %s: %s is leased by another worker; message dropped", unit.job_id, unit.what)
        return Outcome.DROPPED
    try:
        return _leased(unit, ctx)
    except LeaseLost as exc:
        log.warning("job %s: %s: %s; attempt dropped", unit.job_id, unit.what, exc.message)
        unit.lost()
        return Outcome.DROPPED
    finally:
        ctx.store.release(unit.lease_id, ctx.owner)


def _leased(unit: Unit[T], ctx: Context) -> Outcome:
    """`deliver` once the lease is held."""
    if not unit.prepare():
        return Outcome.DROPPED
    if ctx.stopping_now():  # a SIGTERM between the message and here: no attempt is counted for it
        log.info("job %s: %s: the worker is stopping; message handed back untouched", unit.job_id, unit.what)
        return Outcome.REQUEUE
    attempt = unit.count_attempt()
    if attempt is None:
        return Outcome.DROPPED
    if exhausted(attempt, unit.budget()):
        outcome = unit.exhaust(attempt)
        unit.dead_letter()
        return outcome
    if unit.cancel_requested():
        return unit.cancel(attempt, started=False)
    return run(unit, attempt, ctx)


def run(unit: Unit[T], attempt: int, ctx: Context) -> Outcome:
    """One attempt under a kept lease, in its own scratch folder (always removed)."""
    keeper = LeaseKeeper(ctx.store, unit.job_id, ctx.owner, ctx.settings.lease_ttl, shutdown=ctx.shutdown,
                         hard_limit=unit.hard_limit(), lease_id=unit.lease_id)
    scratch = open_scratch(ctx.settings.scratch, unit.scratch_prefix, lease_id=unit.lease_id, owner=ctx.owner,
                           attempt=attempt)  # named after its owner: `workers.delivery.scratch` sweeps dead ones
    try:
        with keeper:
            keeper.check()
            result = unit.work(attempt, scratch, keeper)
    except LeaseLost:
        raise  # a fenced write refused: the attempt is another's now (`deliver` drops it)
    except Exception as exc:
        if stopped_by(exc, keeper.reason):
            unit.stopped(keeper.reason)
            action = after_stop(keeper.reason, exc, what=unit.what, hint=unit.time_limit_hint)
            if action is StopAction.HAND_BACK:
                unit.hand_back(attempt)
                return Outcome.REQUEUE
            if action is StopAction.CANCEL:
                return unit.cancel(attempt, started=True)
            if action is StopAction.LOST:
                unit.lost()
                return Outcome.DROPPED
            return settle(unit, action, attempt, ctx)
        error = failure_of(exc)
        if error.code == INTERNAL_ERROR:
            log.exception("job %s: %s: unexpected error", unit.job_id, unit.what)
        return settle(unit, error, attempt, ctx)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return unit.finish(result, attempt)


def settle(unit: Unit[T], error: Failure, attempt: int, ctx: Context) -> Outcome:
    """Retry the unit or give up on it, as `decide` says."""
    decision = decide(error, attempt, unit.budget(), outage=unit.outage(error),
                      outage_budget=ctx.settings.storage_outage_budget * 60)
    if isinstance(decision, Retry):
        return unit.retry(decision.failure, attempt, decision.delay)
    return unit.give_up(decision.failure, attempt)

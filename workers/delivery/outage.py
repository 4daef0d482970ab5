"""Storage outages measured in minutes, not attempts (pure): how long the outage a failure belongs to has lasted,
read from the job's history, and how many of its attempts it took (they are not counted against
``VODFLEET_MAX_ATTEMPTS``; ``VODFLEET_STORAGE_OUTAGE_BUDGET`` minutes bound them instead,
`workers.delivery.attempt.decide`).

A retry after a failure writes a ``queued`` transition whose detail is `retry_detail` ("storage_unavailable:
retry in 5 s"); the outage began at the first of the trailing run of such transitions with an outage code.
"""

from __future__ import annotations

from collections.abc import Sequence

from workers.jobs.state import JobState, Transition

OUTAGE_CODES = frozenset({"storage_unavailable", "store_unavailable"})
RETRY_SUFFIX = ": retry in "


def retry_detail(code: str, delay: float) -> str:
    """The detail of the ``queued`` transition a retry writes: ``"<code>: retry in <delay> s"``."""
    return f"{code}{RETRY_SUFFIX}{delay:.0f} s"


def _retry_code(transition: Transition) -> str | None:
    if transition.state is not JobState.QUEUED or RETRY_SUFFIX not in transition.detail:
        return None
    return transition.detail.partition(RETRY_SUFFIX)[0]


def outage_retries(history: Sequence[Transition]) -> list[Transition]:
    """The trailing run of retries after outage failures (other transitions between them are an attempt's
    progress; a requeue for any other reason ends the run)."""
    run: list[Transition] = []
    for transition in reversed(history):
        if transition.state is not JobState.QUEUED:
            continue
        if _retry_code(transition) not in OUTAGE_CODES:
            break
        run.append(transition)
    return run[::-1]


def outage_seconds(history: Sequence[Transition], code: str, now: float) -> float | None:
    """How long the outage that failure `code` (at `now`, unix seconds) belongs to has lasted: since the first
    of the trailing outage retries, 0 for the first failure; None when `code` is not an outage."""
    if code not in OUTAGE_CODES:
        return None
    run = outage_retries(history)
    return max(0.0, now - run[0].at) if run else 0.0


def outage_attempts(history: Sequence[Transition]) -> int:
    """Attempts that ended in a retried outage failure, over the whole history: added to the attempt budget."""
    return sum(1 for t in history if _retry_code(t) in OUTAGE_CODES)


def outage_delay(elapsed: float) -> float:
    """Backoff during an outage (pure): as long as it has lasted so far, between 5 s and 60 s."""
    return min(60.0, max(5.0, elapsed))

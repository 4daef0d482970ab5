"""What one job-record change means for the metrics (pure): phase durations, failures, retries.

Every change a store makes goes through `observations(before, after)`: a state change from S to T observes
how long the job spent in S (``after.updated`` − the time S was entered, from the history); ``queued`` is
the wait for a worker. A change into ``failed`` counts one failure with its code; a requeue carrying a new
failure counts one retry with that code.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.jobs.state import JobRecord, JobState


@dataclass(frozen=True)
class PhaseTime:
    phase: str
    seconds: float


@dataclass(frozen=True)
class Failed:
    code: str


@dataclass(frozen=True)
class Retried:
    code: str


Observation = PhaseTime | Failed | Retried


def observations(before: JobRecord, after: JobRecord) -> list[Observation]:
    if before.state == after.state:
        return []  # progress, a flag, or an attempt count
    found: list[Observation] = []
    if before.history and before.history[-1].state == before.state:
        found.append(PhaseTime(before.state.value, max(0.0, after.updated - before.history[-1].at)))
    if after.state is JobState.FAILED:
        found.append(Failed(after.failure.code if after.failure else "unknown"))
    elif after.state is JobState.QUEUED and after.failure is not None and after.failure != before.failure:
        found.append(Retried(after.failure.code))
    return found

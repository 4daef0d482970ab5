"""Job states, the rules for moving between them, and the record a store keeps (pure).

    queued → fetching → probing → encoding (percent) → packaging → qc → publishing → published
       ▲          └──────────────┴─────── any running state ─────────────┘
       └── requeued (worker lost, shut down, retryable error)           ─► failed | cancelled

Running states only move forward (skipping is allowed); ``encoding → encoding`` carries progress.
Terminal states (published, failed, cancelled) never change.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from workers.exitcodes import EXIT_ENCODE_FAILED, EXIT_INTERRUPTED, EXIT_OK
from workers.jobs.board import ChunkBoard
from workers.jobs.spec import JobSpec


class JobState(StrEnum):
    QUEUED = "queued"
    FETCHING = "fetching"
    PROBING = "probing"
    ENCODING = "encoding"
    PACKAGING = "packaging"
    QC = "qc"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


FORWARD = (JobState.QUEUED, JobState.FETCHING, JobState.PROBING, JobState.ENCODING, JobState.PACKAGING,
           JobState.QC, JobState.PUBLISHING, JobState.PUBLISHED)
TERMINAL = frozenset({JobState.PUBLISHED, JobState.FAILED, JobState.CANCELLED})
RUNNING = frozenset(FORWARD[1:-1])


def can_transition(src: JobState, dst: JobState) -> bool:
    """Whether a job in `src` may move to `dst` (pure; the stores apply it inside their transaction)."""
    if src in TERMINAL:
        return False
    if dst in (JobState.FAILED, JobState.CANCELLED):
        return True
    if dst is JobState.QUEUED:
        return src in RUNNING  # requeued: worker lost, shut down, or a retryable error
    if src == dst:
        return dst is JobState.ENCODING  # progress
    if src is JobState.QUEUED:
        return dst is JobState.FETCHING  # a worker starts at the beginning
    return FORWARD.index(dst) > FORWARD.index(src)


class Failure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    retryable: bool
    message: str
    hint: str = ""
    exit_code: int = EXIT_ENCODE_FAILED  # what `vodfleet transcode` would have exited with (README table)


class Transition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    state: JobState
    at: float  # unix time
    attempt: int
    detail: str = ""


class JobRecord(BaseModel):
    """What a store returns for one job id (history is kept beside it, in order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    spec: JobSpec
    state: JobState = JobState.QUEUED
    attempt: int = 0  # deliveries that acquired the lease
    created: float
    updated: float
    percent: float | None = None
    eta: float | None = None  # seconds
    duration: float | None = None  # of the source, when the submitter could probe it
    failure: Failure | None = None  # the terminal failure, or the last retryable one
    output: str | None = None  # where the published output lives
    cancel_requested: bool = False
    history: tuple[Transition, ...] = ()
    encoder: str | None = None  # fleet fingerprint the job is pinned to (workers.queue.routing); None: any
    chunks: ChunkBoard | None = None  # split-and-stitch: its chunk tasks (workers.jobs.board); None: one task


def apply(record: JobRecord, dst: JobState, *, at: float, attempt: int | None = None, detail: str = "",
          percent: float | None = None, eta: float | None = None, failure: Failure | None = None,
          output: str | None = None) -> JobRecord:
    """The record after a legal transition (pure); raises ValueError naming both states otherwise."""
    if not can_transition(record.state, dst):
        raise ValueError(f"job {record.job_id}: illegal transition {record.state} → {dst}")
    attempt = record.attempt if attempt is None else attempt
    progress_only = dst == record.state
    history = record.history if progress_only else (*record.history, Transition(state=dst, at=at, attempt=attempt,
                                                                                 detail=detail))
    return record.model_copy(update={
        "state": dst, "updated": at, "attempt": attempt, "history": history,
        "percent": percent if dst is JobState.ENCODING else (100.0 if dst is JobState.PUBLISHED else None),
        "eta": eta if dst is JobState.ENCODING else None,
        "failure": failure if failure is not None else record.failure,
        "output": output if output is not None else record.output,
    })


def exit_code_for(record: JobRecord) -> int:
    """The `vodfleet` exit code a waiting submitter returns for a finished job (pure)."""
    if record.state is JobState.PUBLISHED:
        return EXIT_OK
    if record.state is JobState.CANCELLED:
        return EXIT_INTERRUPTED
    return record.failure.exit_code if record.failure else EXIT_ENCODE_FAILED

"""run_job: one delivery of one job, from lease to published (what the Celery task calls).

    lease ─► count the attempt ─► fetch master + sidecars to scratch ─► pipelines.transcode (states and
    percent written to the store) ─► publish to storage ─► published ─► scratch removed, lease released

A delivery that cannot take the lease does nothing (another worker runs the job, or it is finished).
Errors become a retry (retryable, attempts left: state back to queued, re-sent with a backoff) or a
failure (permanent, or out of attempts). SIGTERM stops ffmpeg and hands the message back to the broker.

A job long enough to be chunked (`workers.chunked`) leaves this task after planning, as chunk tasks, and
comes back here once they are all done: the same delivery rules then run the stitch, QC and publish.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pipelines.errors import Cancelled, PipelineError
from pipelines.plan import PlanOptions
from pipelines.transcode import Event, Sidecar, TranscodeRequest, chunks_for, plan_transcode, transcode
from workers import chunked, faults, metrics
from workers.chunkfiles import download_work
from workers.errors import AccessDenied, KeyInvalid, ObjectNotFound, WorkerError
from workers.exitcodes import EXIT_CONFIG, EXIT_ENCODE_FAILED, EXIT_INPUT_REJECTED, exit_code
from workers.fetch import cached_master, drop_master, fetch, named_as_submitted
from workers.jobstate import RUNNING, TERMINAL, Failure, JobRecord, JobState
from workers.lease import LeaseKeeper, StopReason
from workers.publish import publish
from workers.settings import Settings
from workers.storage.base import Storage
from workers.store import JobStore, begin_attempt, transition

log = logging.getLogger(__name__)

_PHASES = {"probing": JobState.PROBING, "encoding": JobState.ENCODING, "packaging": JobState.PACKAGING,
           "qc": JobState.QC}
_PROGRESS_EVERY = 1.0  # seconds between percent writes
STORE_UNAVAILABLE = "store_unavailable"  # the code of a store that cannot be reached right now


class Outcome(StrEnum):
    DONE = "done"  # published, failed for good, or cancelled: ack
    DROPPED = "dropped"  # nothing to do here (finished, unknown, leased elsewhere): ack
    RETRY = "retry"  # requeued with a backoff: ack this message (a new one was sent)
    REQUEUE = "requeue"  # the worker is shutting down: reject with requeue


@dataclass(frozen=True)
class Context:
    settings: Settings
    store: JobStore
    storage: Storage
    owner: str  # "<host>:<pid>:<random>": who holds a lease
    shutdown: threading.Event
    enqueue: Callable[[JobRecord, float], object]  # (record, countdown)
    dead_letter: Callable[[JobRecord], object]
    enqueue_part: Callable[[JobRecord, int, float], object]  # (record, part index, countdown)


def failure_exit_code(exc: PipelineError | WorkerError) -> int:
    """The README's exit code for an error that ends a job (pure)."""
    if isinstance(exc, PipelineError):
        return exit_code(exc)
    if isinstance(exc, ObjectNotFound | KeyInvalid):
        return EXIT_INPUT_REJECTED  # the master or a sidecar named in the job is not there / not nameable
    if isinstance(exc, AccessDenied):
        return EXIT_CONFIG
    return EXIT_ENCODE_FAILED


def stopped_by(exc: Exception, keeper: LeaseKeeper) -> bool:
    """Whether `exc` ends an attempt that the keeper stopped (cancel, shutdown, lease lost, time limit)."""
    return isinstance(exc, Cancelled) or (keeper.reason is not None and isinstance(exc, PipelineError | WorkerError))


def failure_of(exc: Exception, what: str) -> Failure:
    """The Failure an error that ends an attempt is recorded as; an unexpected one is logged with its traceback
    and retried (a bug or an untranslated third-party error: retried, then failed with evidence)."""
    if isinstance(exc, PipelineError | WorkerError):
        return Failure(code=exc.code, retryable=exc.retryable, message=exc.message, hint=exc.hint,
                       exit_code=failure_exit_code(exc))
    log.exception("%s: unexpected error", what)
    return Failure(code="internal_error", retryable=True, message=repr(exc), hint="report this with the worker's log")


def retry_delay(attempt: int) -> float:
    """Backoff before attempt `attempt + 1` (pure): 5 s, 20 s, 80 s, … capped at 10 minutes."""
    return float(min(600, 5 * 4 ** max(0, attempt - 1)))


def run_job(job_id: str, ctx: Context) -> Outcome:
    record = ctx.store.get(job_id)
    if record is None or record.state in TERMINAL:
        log.info("job %s: %s; message dropped", job_id, "unknown" if record is None else record.state)
        return Outcome.DROPPED
    if not ctx.store.acquire(job_id, ctx.owner, ctx.settings.lease_ttl):
        log.info("job %s: leased by another worker; message dropped", job_id)
        return Outcome.DROPPED
    try:
        return _leased(job_id, ctx)
    finally:
        ctx.store.release(job_id, ctx.owner)


def _leased(job_id: str, ctx: Context) -> Outcome:
    record = ctx.store.get(job_id)
    if record is None or record.state in TERMINAL:  # finished between the first look and the lease
        return Outcome.DROPPED
    board = record.chunks
    if board is not None and record.state is JobState.ENCODING:
        if not board.complete:  # its chunk tasks are at work; the one that completes the board sends it back
            log.info("job %s: %s; message dropped", job_id, board.summary())
            return Outcome.DROPPED
    elif record.state in RUNNING:  # its last attempt was lost and the lease lapsed before a watchdog requeued it
        record = transition(ctx.store, job_id, JobState.QUEUED, detail=f"lease expired (worker lost during "
                            f"attempt {record.attempt}); taken over by {ctx.owner}")  # (e.g. RabbitMQ redelivery)
    attempt = begin_attempt(ctx.store, job_id)
    if attempt > ctx.settings.max_attempts + (board.planned_attempt if board else 0):
        failed = transition(ctx.store, job_id, JobState.FAILED, attempt=attempt, failure=Failure(
            code="attempts_exhausted", retryable=False,
            message=f"delivered {attempt} times; every earlier attempt was lost (worker killed or stopped)",
            hint="the master may crash or exhaust the worker; check worker logs, then `vodfleet submit --force`"))
        ctx.dead_letter(failed)
        _ended(failed, ctx)
        return Outcome.DONE
    if record.cancel_requested:
        _ended(transition(ctx.store, job_id, JobState.CANCELLED, attempt=attempt, detail="cancelled before it "
                          "started"), ctx)
        return Outcome.DONE
    return _attempt(record, attempt, ctx)


def _ended(record: JobRecord, ctx: Context) -> None:
    """A chunked job reached a terminal state: its chunk objects and cached master are removed."""
    if record.chunks is not None:
        chunked.cleanup(record.job_id, ctx.settings, ctx.storage)


def _attempt(record: JobRecord, attempt: int, ctx: Context) -> Outcome:
    """Run one attempt under a kept lease, in its own scratch folder (always removed)."""
    _soft, hard = ctx.settings.time_limits(record.duration)
    keeper = LeaseKeeper(ctx.store, record.job_id, ctx.owner, ctx.settings.lease_ttl, shutdown=ctx.shutdown,
                         hard_limit=hard)
    ctx.settings.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"vodfleet-job-{record.job_id}-", dir=ctx.settings.scratch))
    output: str | None = ""
    try:
        with keeper:
            keeper.check()
            output = _work(record, attempt, scratch, ctx, keeper)
    except Exception as exc:  # noqa: BLE001 - every error ends the attempt (failure_of logs an unexpected one)
        if stopped_by(exc, keeper):
            return _stopped(record, attempt, keeper.reason, exc, ctx)
        return _failed(record, attempt, failure_of(exc, f"job {record.job_id}"), ctx)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if output is not None:  # (None: chunk tasks were sent and use the cached master)
            drop_master(record.job_id, ctx.settings)
    if output is None:
        return Outcome.DONE
    _ended(transition(ctx.store, record.job_id, JobState.PUBLISHED, attempt=attempt, output=output, detail=output),
           ctx)
    return Outcome.DONE


def _work(record: JobRecord, attempt: int, scratch: Path, ctx: Context, keeper: LeaseKeeper) -> str | None:
    """Fetch, transcode and publish; return the published location, or None when chunk tasks were sent."""
    spec = record.spec
    job_id = record.job_id
    board = record.chunks
    stitching = board is not None and board.complete
    if record.state is JobState.QUEUED:  # (a stitch delivered while encoding goes straight on)
        transition(ctx.store, job_id, JobState.FETCHING, attempt=attempt, detail=ctx.owner)
    if board is not None and not board.complete:  # lost after planning: send the parts still queued
        resumed, queued = chunked.resume_chunks(ctx.store, record, attempt)
        for index in queued:
            ctx.enqueue_part(resumed, index, 0.0)
        return None
    policy = chunked.chunk_policy(spec.chunks, ctx.settings)
    chunkable = stitching or chunked.may_chunk(record, policy)
    source = (cached_master(job_id, spec.source, ctx.settings, ctx.storage) if chunkable
              else fetch(spec.source, scratch / "in", ctx.settings, ctx.storage))
    sidecars = tuple(Sidecar(language=s.language, path=fetch(s.uri, scratch / "in" / f"sub{n}", ctx.settings,
                                                             ctx.storage), forced=s.forced, sdh=s.sdh)
                     for n, s in enumerate(spec.subtitles))
    # errors name a bad master or sidecar as submitted, not as this worker's scratch copy
    fetched = {source: spec.source, **{s.path: ref.uri for s, ref in zip(sidecars, spec.subtitles, strict=True)}}
    request = TranscodeRequest(
        source=source, output=scratch / "out" / job_id, subtitles=sidecars, ladder=spec.ladder,
        options=PlanOptions(segment_seconds=spec.segment_seconds, profile=spec.profile,
                            audio_languages=spec.audio_languages,
                            audio_map=spec.audio_map_entries(), loudness=spec.loudness,
                            captions=spec.caption_options()),
        measure_quality=spec.measure_quality, scratch_root=scratch, dash_vtt_sidecar=spec.dash_vtt_sidecar,
        thumbnails=spec.thumbnails.options(),
        fingerprint=record.encoder)  # the job's pin: this worker's own fingerprint (workers.routing admitted it)
    if board is not None:  # every part is done: stitch what they uploaded
        encoded = chunked.scratch_for_stitch(scratch)
        download_work(ctx.storage, job_id, encoded)
        request = dataclasses.replace(request, chunks=chunked.stitch_policy(board), encoded=encoded,
                                      encoded_runs=chunked.encoded_runs(board), encoded_wall=board.wall_seconds())
    elif chunkable:
        wanted = dataclasses.replace(request, chunks=policy)
        with named_as_submitted(fetched):  # bad input is rejected here
            chunks = chunks_for(wanted, plan_transcode(wanted, scratch=scratch).plan)
        if chunks:
            started = chunked.start_chunks(ctx.store, record, chunks, attempt)
            for part in started.chunks.parts if started.chunks else ():
                ctx.enqueue_part(started, part.index, 0.0)
            return None
    writer = _StateWriter(ctx, job_id, attempt, keeper, stitching=stitching)
    with named_as_submitted(fetched):
        result = transcode(request, on_event=writer, cancel=keeper.cancel)
    keeper.check()
    if keeper.cancel.is_set():
        raise Cancelled(f"job {job_id} stopped before publishing ({keeper.reason})")
    transition(ctx.store, job_id, JobState.PUBLISHING, attempt=attempt)
    published = publish(result.output, ctx.storage, spec.output_prefix, job_id=job_id, attempt=attempt)
    metrics.record_transcode(result.report)
    metrics.record_published(result.output)
    return published.location


class _StateWriter:
    """on_event for the pipeline: phases and (throttled) percent into the store; never raises."""

    def __init__(self, ctx: Context, job_id: str, attempt: int, keeper: LeaseKeeper, *,
                 stitching: bool = False) -> None:
        self._ctx, self._job_id, self._attempt, self._keeper = ctx, job_id, attempt, keeper
        self._last = 0.0
        self._state: JobState | None = None
        self._skip = (JobState.PROBING, JobState.ENCODING) if stitching else ()  # (a stitch re-probes, encodes nothing)

    def __call__(self, event: Event) -> None:
        dst = _PHASES.get(event.phase)
        if dst is None or dst in self._skip:
            return
        now = time.monotonic()
        if dst == self._state and (event.progress is None or now - self._last < _PROGRESS_EVERY):
            return
        self._last = now
        try:
            p = event.progress
            transition(self._ctx.store, self._job_id, dst, attempt=self._attempt,
                       percent=p.percent if p else None, eta=p.eta if p else None)
            self._state = dst
            faults.reached(dst.value)  # test-only hook: a no-op unless VODFLEET_FAULT_KILL_WORKER_AT is set
        except WorkerError as exc:
            if exc.code == STORE_UNAVAILABLE:  # a blip (store restarting): keep encoding; the lease keeper
                log.warning("job %s: cannot record %s now: %s", self._job_id, dst, exc)  # stops us if it lapses
                return
            log.warning("job %s: cannot record %s: %s", self._job_id, dst, exc)  # the job moved on elsewhere
            self._keeper.stop_for(StopReason.LEASE_LOST)


def _stopped(record: JobRecord, attempt: int, reason: StopReason | None, exc: Exception, ctx: Context) -> Outcome:
    job_id = record.job_id
    if reason is StopReason.SHUTDOWN:
        transition(ctx.store, job_id, JobState.QUEUED, attempt=attempt,
                   detail="worker shutting down: ffmpeg stopped, message returned to the queue")
        return Outcome.REQUEUE
    if reason is StopReason.CANCELLED:
        _ended(transition(ctx.store, job_id, JobState.CANCELLED, attempt=attempt, detail="cancelled while running"),
               ctx)
        return Outcome.DONE
    if reason is StopReason.LEASE_LOST:
        return Outcome.DROPPED  # someone else owns the job now; its state is theirs to write
    if reason is StopReason.TIMEOUT:
        return _failed(record, attempt, Failure(
            code="time_limit", retryable=True, message=f"the job ran past its hard time limit ({exc})",
            hint="raise VODFLEET_TIME_LIMIT_FACTOR / _MAX if the master is long"), ctx)
    return _failed(record, attempt, Failure(code="cancelled", retryable=False, message=str(exc)), ctx)


def _failed(record: JobRecord, attempt: int, failure: Failure, ctx: Context) -> Outcome:
    job_id = record.job_id
    allowed = ctx.settings.max_attempts + (record.chunks.planned_attempt if record.chunks else 0)
    if failure.retryable and attempt < allowed:
        delay = retry_delay(attempt)
        requeued = transition(ctx.store, job_id, JobState.QUEUED, attempt=attempt, failure=failure,
                              detail=f"{failure.code}: retry in {delay:.0f} s")
        ctx.enqueue(requeued, delay)
        return Outcome.RETRY
    if failure.retryable:
        failure = failure.model_copy(update={"message": f"{failure.message} (after {attempt} attempts)"})
    _ended(transition(ctx.store, job_id, JobState.FAILED, attempt=attempt, failure=failure, detail=failure.code),
           ctx)
    return Outcome.DONE

"""run_part: one delivery of one part (a chunk's video rungs, or the title's audio) of a chunked job.

    part lease ─► attempt + 1, running ─► cached master ─► re-plan (probe; must cut the same chunk) ─►
    encode the part into scratch ─► upload under _chunks/<job>/ ─► done (the last part sends the stitch)

The rules of `workers.runjob`, per part: a delivery that cannot take the part's lease does nothing; a
lost part (worker killed: its lease lapses, the watchdog re-sends it) is re-run alone; a retryable error
re-sends the part with a backoff until its attempts run out; a permanent error, or attempts exhausted,
fails the whole job (nothing is published; chunk objects and the cached master are removed). A cancelled
or ended job stops the part's ffmpeg within a second. SIGTERM hands the message back.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.chunk import plan_chunks
from pipelines.chunk_encode import encode_audio, encode_chunk
from pipelines.errors import Cancelled
from pipelines.plan import EncodePlan, PlanOptions
from pipelines.tools import Tools
from pipelines.transcode import TranscodeRequest, plan_transcode
from workers import chunked, faults, metrics
from workers.chunkboard import AUDIO, ChunkPart, PartState, part_lease
from workers.chunkfiles import part_prefix, upload_part
from workers.chunkjob import begin_part, finish_part, requeue_part
from workers.errors import JobError, WorkerError
from workers.fetch import cached_master, named_as_submitted, sweep_masters
from workers.jobstate import TERMINAL, Failure, JobRecord, JobState, apply
from workers.lease import LeaseKeeper, StopReason
from workers.runjob import STORE_UNAVAILABLE, Context, Outcome, failure_of, retry_delay, stopped_by
from workers.store import IllegalTransition, update_checked

log = logging.getLogger(__name__)


class PartMismatch(JobError):
    """This worker cuts the title differently from the coordinator (another probe result or build)."""

    code = "chunk_plan_mismatch"
    retryable = False


def run_part(job_id: str, index: int, ctx: Context) -> Outcome:
    sweep_masters(ctx.store, ctx.settings)
    record = ctx.store.get(job_id)
    if record is None or record.state in TERMINAL or record.chunks is None:
        return Outcome.DROPPED
    part = record.chunks.part(index)
    if part is None:
        log.error("job %s has no part %d; message dropped", job_id, index)
        return Outcome.DROPPED
    if part.state is PartState.DONE:
        _maybe_stitch(record, ctx)  # a redelivery after the stitch trigger may have been lost with its worker
        return Outcome.DROPPED
    lease = part_lease(job_id, index)
    if not ctx.store.acquire(lease, ctx.owner, ctx.settings.lease_ttl):
        log.info("job %s: %s is leased by another worker; message dropped", job_id, part.name)
        return Outcome.DROPPED
    try:
        return _leased(job_id, index, lease, ctx)
    finally:
        ctx.store.release(lease, ctx.owner)


def _update(ctx: Context, job_id: str, change: Callable[[JobRecord], JobRecord]) -> JobRecord:
    return update_checked(ctx.store, job_id, change)


def _leased(job_id: str, index: int, lease: str, ctx: Context) -> Outcome:
    try:
        record = _update(ctx, job_id, lambda r: begin_part(r, index, ctx.owner, at=time.time()))
    except IllegalTransition as exc:  # finished, failed, cancelled, or the part got done meanwhile
        log.info("job %s: part %d not run: %s", job_id, index, exc.message)
        return Outcome.DROPPED
    part = _part(record, index)
    if part.attempts > ctx.settings.max_attempts:
        ctx.dead_letter(record)
        return _fail_job(record, Failure(
            code="attempts_exhausted", retryable=False,
            message=f"{part.name} ({part.start:.3f}–{part.end:.3f} s) was delivered {part.attempts} times; every "
                    "earlier attempt was lost (worker killed or stopped)",
            hint="this stretch of the master may crash or exhaust the worker; check worker logs, then "
                 "`vodfleet submit --force`"), ctx)
    if record.cancel_requested:
        return _cancel_job(record, ctx)
    faults.reached(f"chunk{index}")  # test-only hook: a no-op unless VODFLEET_FAULT_KILL_WORKER_AT is set
    return _run(record, part, lease, ctx)


def _run(record: JobRecord, part: ChunkPart, lease: str, ctx: Context) -> Outcome:
    """One attempt of the part under a kept lease, in its own scratch folder (always removed)."""
    job_id, index = record.job_id, part.index
    _soft, hard = ctx.settings.time_limits(part.end - part.start)
    keeper = LeaseKeeper(ctx.store, job_id, ctx.owner, ctx.settings.lease_ttl, shutdown=ctx.shutdown,
                         hard_limit=hard, lease_id=lease)
    ctx.settings.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"vodfleet-part-{job_id}-{index}-", dir=ctx.settings.scratch))
    try:
        with keeper:
            keeper.check()
            seconds = _encode_and_upload(record, part, scratch, ctx, keeper)
    except Exception as exc:  # noqa: BLE001 - every error ends the attempt (failure_of logs an unexpected one)
        if stopped_by(exc, keeper):
            return _stopped(record, part, keeper.reason, exc, ctx)
        return _part_failed(record, part, failure_of(exc, f"job {job_id}: {part.name}"), ctx)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    try:
        done = _finish(ctx, job_id, index, seconds)
    except IllegalTransition as exc:  # the job ended meanwhile: what was uploaded goes with it
        log.info("job %s: %s finished but not wanted any more: %s", job_id, part.name, exc.message)
        _cleanup_if_ended(job_id, ctx)
        return Outcome.DROPPED
    metrics.record_part("done")
    _maybe_stitch(done, ctx)
    return Outcome.DONE


def _finish(ctx: Context, job_id: str, index: int, seconds: float) -> JobRecord:
    """Mark the part done; a store that is briefly unreachable (restarting) is waited for while the part's
    lease would still be ours, so an encoded and uploaded part is not thrown away for a blip."""
    deadline = time.monotonic() + ctx.settings.lease_ttl
    while True:
        try:
            return _update(ctx, job_id, lambda r: finish_part(r, index, ctx.owner, seconds, at=time.time()))
        except WorkerError as exc:
            if exc.code != STORE_UNAVAILABLE or time.monotonic() > deadline:
                raise
            log.warning("job %s: cannot mark part %d done yet: %s", job_id, index, exc)
            time.sleep(0.5)


def _part(record: JobRecord, index: int) -> ChunkPart:
    part = record.chunks.part(index) if record.chunks else None
    if part is None:
        raise PartMismatch(f"job {record.job_id} has no part {index}")
    return part


def _plan(record: JobRecord, source: Path, scratch: Path, *, loudness: bool) -> EncodePlan:
    spec = record.spec
    request = TranscodeRequest(source=source, output=scratch / "unused", ladder=spec.ladder,
                               options=PlanOptions(segment_seconds=spec.segment_seconds, profile=spec.profile,
                                                   audio_languages=spec.audio_languages,
                                                   audio_map=spec.audio_map_entries(), loudness=spec.loudness,
                                                   captions=spec.caption_options()))
    return plan_transcode(request, scratch=scratch, loudness=loudness).plan


def _encode_and_upload(record: JobRecord, part: ChunkPart, scratch: Path, ctx: Context, keeper: LeaseKeeper) -> float:
    """Encode the part into scratch/<part> and upload it; return its ffmpeg's wall time."""
    board = record.chunks
    assert board is not None  # run_part checked it
    source = cached_master(record.job_id, record.spec.source, ctx.settings, ctx.storage)
    with named_as_submitted({source: record.spec.source}):
        plan = _plan(record, source, scratch, loudness=part.index == AUDIO)  # video parts: no audio pass 1
    tools = Tools.resolve()
    out = scratch / "part"
    if part.index == AUDIO:
        run = encode_audio(plan, source=source, out=out, tools=tools, cancel=keeper.cancel)
    else:
        chunks = plan_chunks(plan.source.media_duration, plan.segment_seconds, plan.gop_seconds, plan.fps,
                             chunked.stitch_policy(board))
        chunk = chunks[part.index] if part.index < len(chunks) else None
        if chunk is None or (chunk.start_frame, chunk.end_frame) != (part.start_frame, part.end_frame):
            raise PartMismatch(
                f"{part.name}: this worker cuts frames {chunk.start_frame if chunk else '?'}–"
                f"{chunk.end_frame if chunk else '?'}, the job was planned with {part.start_frame}–{part.end_frame}",
                hint="every worker of a job must probe the master alike: run one encoder image (vodfleet doctor)")
        run = encode_chunk(faults.chunk_plan(plan, part.index), chunk, source=source, out=out, tools=tools,
                           cancel=keeper.cancel)
    keeper.check()
    if keeper.cancel.is_set():
        raise Cancelled(f"job {record.job_id}: {part.name} stopped before its upload ({keeper.reason})")
    upload_part(ctx.storage, out, part_prefix(record.job_id, part.index))
    return run.seconds


def _maybe_stitch(record: JobRecord, ctx: Context) -> None:
    """Send the job back to run_job (the stitch) when its board is complete and it still waits for it."""
    if record.chunks is not None and record.chunks.complete and record.state is JobState.ENCODING:
        log.info("job %s: every part done; stitch sent", record.job_id)
        ctx.enqueue(record, 0.0)


def _stopped(record: JobRecord, part: ChunkPart, reason: StopReason | None, exc: Exception, ctx: Context) -> Outcome:
    if reason is not StopReason.TIMEOUT:
        metrics.record_part("stopped")
    if reason is StopReason.SHUTDOWN:
        _requeue(record, part, ctx)
        return Outcome.REQUEUE
    if reason is StopReason.CANCELLED:
        return _cancel_job(record, ctx)
    if reason is StopReason.LEASE_LOST:
        _cleanup_if_ended(record.job_id, ctx)
        return Outcome.DROPPED
    if reason is StopReason.TIMEOUT:
        return _part_failed(record, part, Failure(
            code="time_limit", retryable=True, message=f"{part.name} ran past its hard time limit ({exc})",
            hint="raise VODFLEET_TIME_LIMIT_FACTOR, or lower VODFLEET_CHUNK_TARGET"), ctx)
    return _part_failed(record, part, Failure(code="cancelled", retryable=False, message=str(exc)), ctx)


def _requeue(record: JobRecord, part: ChunkPart, ctx: Context) -> JobRecord | None:
    try:
        return _update(ctx, record.job_id, lambda r: requeue_part(r, part.index, at=time.time(), owner=ctx.owner))
    except IllegalTransition:
        return None


def _part_failed(record: JobRecord, part: ChunkPart, failure: Failure, ctx: Context) -> Outcome:
    if failure.retryable and part.attempts < ctx.settings.max_attempts:
        requeued = _requeue(record, part, ctx)
        if requeued is None:
            return Outcome.DROPPED
        delay = retry_delay(part.attempts)
        log.warning("job %s: %s failed (%s); retry in %.0f s", record.job_id, part.name, failure.code, delay)
        ctx.enqueue_part(requeued, part.index, delay)
        metrics.record_part("retried")
        return Outcome.RETRY
    suffix = f" (after {part.attempts} attempts)" if failure.retryable else ""
    return _fail_job(record, failure.model_copy(update={
        "message": f"{part.name} ({part.start:.3f}–{part.end:.3f} s): {failure.message}{suffix}"}), ctx)


def _end_job(record: JobRecord, dst: JobState, ctx: Context, *, detail: str, failure: Failure | None = None) -> None:
    """Move the whole job to failed/cancelled (unless it already ended) and remove its chunk objects."""
    def change(current: JobRecord) -> JobRecord:
        if current.state in TERMINAL:
            return current
        return apply(current, dst, at=time.time(), detail=detail, failure=failure)

    _update(ctx, record.job_id, change)
    chunked.cleanup(record.job_id, ctx.settings, ctx.storage)


def _fail_job(record: JobRecord, failure: Failure, ctx: Context) -> Outcome:
    metrics.record_part("failed")
    _end_job(record, JobState.FAILED, ctx, failure=failure, detail=failure.code)
    return Outcome.DONE


def _cancel_job(record: JobRecord, ctx: Context) -> Outcome:
    _end_job(record, JobState.CANCELLED, ctx, detail="cancelled while its chunks ran")
    return Outcome.DONE


def _cleanup_if_ended(job_id: str, ctx: Context) -> None:
    current = ctx.store.get(job_id)
    if current is None or current.state in TERMINAL:
        chunked.cleanup(job_id, ctx.settings, ctx.storage)

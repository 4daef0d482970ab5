"""One part of a chunked job (a chunk's video rungs, or the title's audio) as the delivery kernel's unit.

    cached master ─► re-plan (probe; must cut the same chunk) ─► encode the part into scratch ─►
    upload under _chunks/<job>/ ─► done (the last part sends the stitch)

The lease (the part's own), the attempt count, stop reasons, retry or give up and the dead letter are the kernel's
(`workers.delivery.attempt`), as for a whole job. Per part: a lost part (worker killed: its lease lapses, the
watchdog re-sends it) is re-run alone; a retryable error re-sends the part with a backoff until its attempts run
out; a permanent error, or attempts exhausted, fails the whole job (nothing is published; chunk objects and the
cached master are removed). A cancelled or ended job stops the part's ffmpeg within a second. SIGTERM hands the
message back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.chunk import plan_chunks
from pipelines.chunk_encode import encode_audio, encode_chunk
from pipelines.errors import Cancelled
from pipelines.plan import EncodePlan
from pipelines.tools import Tools
from pipelines.transcode import plan_transcode
from workers.delivery import chunks, faults
from workers.delivery.attempt import deliver, failure_for
from workers.delivery.context import Context, Outcome
from workers.delivery.inputs import cached_master, named_as_submitted, sweep_masters
from workers.delivery.lease import LeaseKeeper, StopReason
from workers.delivery.part_files import part_prefix, upload_part
from workers.errors import IllegalTransition, PartMismatch, StoreUnavailable
from workers.jobs.board import AUDIO, ChunkPart, PartState, part_lease
from workers.jobs.parts import begin_part, finish_part, requeue_part
from workers.jobs.request import transcode_request
from workers.jobs.state import TERMINAL, Failure, JobRecord, JobState, apply
from workers.metrics import worker as metrics
from workers.store.base import Fence
from workers.store.ops import update_checked

log = logging.getLogger(__name__)


def run_part(job_id: str, index: int, ctx: Context) -> Outcome:
    """One delivery of part `index` of job `job_id`: what the ``run_part`` task calls."""
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
    return deliver(PartDelivery(record, part, ctx), ctx)


class PartDelivery:
    """A part as the kernel's `workers.delivery.attempt.Unit` (the result of its work: its ffmpeg's wall time)."""

    time_limit_hint = "raise VODFLEET_TIME_LIMIT_FACTOR, or lower VODFLEET_CHUNK_TARGET"

    def __init__(self, record: JobRecord, part: ChunkPart, ctx: Context) -> None:
        self.record, self.part, self.ctx = record, part, ctx
        self.job_id, self.index = record.job_id, part.index
        self.lease_id = part_lease(record.job_id, part.index)
        self.what = part.name
        self.scratch_prefix = f"vodfleet-part-{record.job_id}-{part.index}-"
        self.fence = Fence(self.lease_id, ctx.owner)  # every write of this delivery holds the part's lease

    def hard_limit(self) -> float:
        return self.ctx.settings.time_limits(self.part.end - self.part.start)[1]

    def prepare(self) -> bool:
        return True

    def count_attempt(self) -> int | None:
        ctx, index = self.ctx, self.index
        try:
            record = _update(ctx, self.job_id, lambda r: begin_part(r, index, ctx.owner, at=time.time()), self.fence)
        except IllegalTransition as exc:  # finished, failed, cancelled, or the part got done meanwhile
            log.info("job %s: part %d not run: %s", self.job_id, index, exc.message)
            return None
        self.record, self.part = record, _part(record, index)
        return self.part.attempts

    def budget(self) -> int:
        return self.ctx.settings.max_attempts

    def outage(self, error: Failure) -> float | None:
        return None  # a part's outage failures count as attempts (its record keeps no history of its retries)

    def cancel_requested(self) -> bool:
        return self.record.cancel_requested

    def exhaust(self, attempt: int) -> Outcome:
        part = self.part
        return _fail_job(self.record, failure_for(
            "attempts_exhausted",
            f"{part.name} ({part.start:.3f}–{part.end:.3f} s) was delivered {attempt} times; every earlier attempt "
            "was lost (worker killed or stopped)", retryable=False,
            hint="this stretch of the master may crash or exhaust the worker; check worker logs, then "
                 "`vodfleet submit --force`"), self.ctx, self.fence)

    def dead_letter(self) -> None:
        self.ctx.dead_letter(self.record)

    def work(self, attempt: int, scratch: Path, keeper: LeaseKeeper) -> float:
        faults.reached(f"chunk{self.index}")  # test-only hook: a no-op unless VODFLEET_FAULT_KILL_WORKER_AT is set
        return _encode_and_upload(self.record, self.part, scratch, self.ctx, keeper)

    def finish(self, result: float, attempt: int) -> Outcome:
        ctx, job_id = self.ctx, self.job_id
        try:
            done = _finish(ctx, job_id, self.index, result, self.fence)
        except IllegalTransition as exc:  # the job ended meanwhile: what was uploaded goes with it
            log.info("job %s: %s finished but not wanted any more: %s", job_id, self.part.name, exc.message)
            _cleanup_if_ended(job_id, ctx)
            return Outcome.DROPPED
        metrics.record_part("done")
        _maybe_stitch(done, ctx)
        return Outcome.DONE

    def stopped(self, reason: StopReason | None) -> None:
        if reason is not StopReason.TIMEOUT:
            metrics.record_part("stopped")

    def hand_back(self, attempt: int) -> None:
        self._requeue()

    def cancel(self, attempt: int, *, started: bool) -> Outcome:
        return _cancel_job(self.record, self.ctx, self.fence)

    def lost(self) -> None:
        _cleanup_if_ended(self.job_id, self.ctx)

    def retry(self, error: Failure, attempt: int, delay: float) -> Outcome:
        requeued = self._requeue()
        if requeued is None:
            return Outcome.DROPPED
        log.warning("job %s: %s failed (%s); retry in %.0f s", self.job_id, self.part.name, error.code, delay)
        self.ctx.enqueue_part(requeued, self.index, delay)
        metrics.record_part("retried")
        return Outcome.RETRY

    def give_up(self, error: Failure, attempt: int) -> Outcome:
        part = self.part
        return _fail_job(self.record, error.model_copy(update={
            "message": f"{part.name} ({part.start:.3f}–{part.end:.3f} s): {error.message}"}), self.ctx, self.fence)

    def _requeue(self) -> JobRecord | None:
        ctx, index = self.ctx, self.index
        try:
            return _update(ctx, self.job_id, lambda r: requeue_part(r, index, at=time.time(), owner=ctx.owner),
                           self.fence)
        except IllegalTransition:
            return None


def _update(ctx: Context, job_id: str, change: Callable[[JobRecord], JobRecord], fence: Fence | None) -> JobRecord:
    return update_checked(ctx.store, job_id, change, fence=fence)


def _finish(ctx: Context, job_id: str, index: int, seconds: float, fence: Fence) -> JobRecord:
    """Mark the part done; a store that is briefly unreachable (restarting) is waited for while the part's
    lease would still be ours, so an encoded and uploaded part is not thrown away for a blip."""
    deadline = time.monotonic() + ctx.settings.lease_ttl
    while True:
        try:
            return _update(ctx, job_id, lambda r: finish_part(r, index, ctx.owner, seconds, at=time.time()), fence)
        except StoreUnavailable as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("job %s: cannot mark part %d done yet: %s", job_id, index, exc)
            time.sleep(0.5)


def _part(record: JobRecord, index: int) -> ChunkPart:
    part = record.chunks.part(index) if record.chunks else None
    if part is None:
        raise PartMismatch(f"job {record.job_id} has no part {index}")
    return part


def _plan(record: JobRecord, source: Path, scratch: Path, *, loudness: bool) -> EncodePlan:
    request = transcode_request(record.spec, source=source, output=scratch / "unused",  # the planning's ladder
                                per_title=record.chunks.per_title if record.chunks else None)
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
        cuts = plan_chunks(plan.source.media_duration, plan.segment_seconds, plan.gop_seconds, plan.fps,
                           chunks.stitch_policy(board))
        chunk = cuts[part.index] if part.index < len(cuts) else None
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


def _end_job(record: JobRecord, dst: JobState, ctx: Context, fence: Fence, *, detail: str,
             failure: Failure | None = None) -> None:
    """Move the whole job to failed/cancelled (unless it already ended) and remove its chunk objects."""
    def change(current: JobRecord) -> JobRecord:
        if current.state in TERMINAL:
            return current
        return apply(current, dst, at=time.time(), detail=detail, failure=failure)

    _update(ctx, record.job_id, change, fence)
    chunks.cleanup(record.job_id, ctx.settings, ctx.storage)


def _fail_job(record: JobRecord, failure: Failure, ctx: Context, fence: Fence) -> Outcome:
    metrics.record_part("failed")
    _end_job(record, JobState.FAILED, ctx, fence, failure=failure, detail=failure.code)
    return Outcome.DONE


def _cancel_job(record: JobRecord, ctx: Context, fence: Fence) -> Outcome:
    _end_job(record, JobState.CANCELLED, ctx, fence, detail="cancelled while its chunks ran")
    return Outcome.DONE


def _cleanup_if_ended(job_id: str, ctx: Context) -> None:
    current = ctx.store.get(job_id)
    if current is None or current.state in TERMINAL:
        chunks.cleanup(job_id, ctx.settings, ctx.storage)

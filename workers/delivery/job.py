"""A whole job as the delivery kernel's unit: fetch, transcode, publish (`run_job` is what the task calls).

    fetch master + sidecars to scratch ─► pipelines.transcode (states and percent written to the store,
    `workers.delivery.progress`) ─► publish to storage ─► published ─► scratch removed

The lease, the attempt count, stop reasons, retry or give up and the dead letter are the kernel's
(`workers.delivery.attempt`); this module says what a job does at each of those steps.

A job long enough to be chunked (`workers.delivery.chunks`) leaves this task after planning, as chunk tasks, and
comes back here once they are all done: the same delivery rules then run the stitch, QC and publish.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from pipelines.errors import Cancelled
from pipelines.transcode import Sidecar, chunks_for, plan_transcode, transcode
from workers.delivery import chunks, faults
from workers.delivery.attempt import deliver, failure_for
from workers.delivery.context import Context, Outcome
from workers.delivery.finished import drop_finished, keep_encode, kept_encode
from workers.delivery.inputs import cached_master, drop_master, fetch, named_as_submitted
from workers.delivery.lease import LeaseKeeper, StopReason
from workers.delivery.outage import outage_attempts, outage_seconds, retry_detail
from workers.delivery.part_files import download_work
from workers.delivery.progress import StateWriter
from workers.delivery.sweep import publishing_now
from workers.jobs.request import transcode_request
from workers.jobs.state import RUNNING, TERMINAL, Failure, JobRecord, JobState
from workers.metrics import worker as metrics
from workers.publish.protocol import publish
from workers.publish.sweep import sweep_quietly
from workers.store.base import Fence, lease_lost
from workers.store.ops import begin_attempt, transition

log = logging.getLogger(__name__)


def run_job(job_id: str, ctx: Context) -> Outcome:
    """One delivery of job `job_id`: what the ``run_job`` task calls."""
    record = ctx.store.get(job_id)
    if record is None or record.state in TERMINAL:
        log.info("job %s: %s; message dropped", job_id, "unknown" if record is None else record.state)
        return Outcome.DROPPED
    return deliver(JobDelivery(record, ctx), ctx)


class JobDelivery:
    """A job as the kernel's `workers.delivery.attempt.Unit` (the result of its work: the published location,
    or None when chunk tasks were sent instead)."""

    what = "the job"
    time_limit_hint = "raise VODFLEET_TIME_LIMIT_FACTOR / _MAX if the master is long"

    def __init__(self, record: JobRecord, ctx: Context) -> None:
        self.record, self.ctx = record, ctx
        self.job_id = self.lease_id = record.job_id
        self.scratch_prefix = f"vodfleet-job-{record.job_id}-"
        self.fence = Fence(self.lease_id, ctx.owner)  # every write of this delivery holds the job's lease

    def hard_limit(self) -> float:
        return self.ctx.settings.time_limits(self.record.duration)[1]

    def prepare(self) -> bool:
        ctx, job_id = self.ctx, self.job_id
        record = ctx.store.get(job_id)
        if record is None or record.state in TERMINAL:  # finished between the first look and the lease
            return False
        board = record.chunks
        if board is not None and record.state is JobState.ENCODING:
            if not board.complete:  # its chunk tasks are at work; the one that completes the board sends it back
                log.info("job %s: %s; message dropped", job_id, board.summary())
                return False
        elif record.state in RUNNING:  # its last attempt was lost and the lease lapsed before a watchdog requeued it
            record = transition(ctx.store, job_id, JobState.QUEUED, detail=f"lease expired (worker lost during "
                                f"attempt {record.attempt}); taken over by {ctx.owner}",  # (e.g. RabbitMQ redelivery)
                                fence=self.fence)
        self.record = record
        return True

    def count_attempt(self) -> int:
        return begin_attempt(self.ctx.store, self.job_id, fence=self.fence)

    def budget(self) -> int:
        board = self.record.chunks  # attempts lost to a storage outage are not counted (workers.delivery.outage)
        return (self.ctx.settings.max_attempts + (board.planned_attempt if board else 0)
                + outage_attempts(self.record.history))

    def outage(self, error: Failure) -> float | None:
        return outage_seconds(self.record.history, error.code, time.time())

    def cancel_requested(self) -> bool:
        return self.record.cancel_requested

    def exhaust(self, attempt: int) -> Outcome:
        return self.give_up(failure_for(
            "attempts_exhausted", f"delivered {attempt} times; every earlier attempt was lost (worker killed or "
            "stopped)", retryable=False,
            hint="the master may crash or exhaust the worker; check worker logs, then `vodfleet submit --force`"),
            attempt, detail="")

    def dead_letter(self) -> None:
        self.ctx.dead_letter(self.record)

    def work(self, attempt: int, scratch: Path, keeper: LeaseKeeper) -> str | None:
        sent_parts = False
        try:
            location = _work(self.record, attempt, scratch, self.ctx, keeper, self.fence)
            sent_parts = location is None
            return location
        finally:
            if not sent_parts:  # (chunk tasks use the cached master)
                drop_master(self.job_id, self.ctx.settings)

    def finish(self, result: str | None, attempt: int) -> Outcome:
        if result is not None:
            self._ended(transition(self.ctx.store, self.job_id, JobState.PUBLISHED, attempt=attempt, output=result,
                                   detail=result, fence=self.fence))
        return Outcome.DONE

    def stopped(self, reason: StopReason | None) -> None:
        pass

    def hand_back(self, attempt: int) -> None:
        transition(self.ctx.store, self.job_id, JobState.QUEUED, attempt=attempt,
                   detail="worker shutting down: ffmpeg stopped, message returned to the queue", fence=self.fence)

    def cancel(self, attempt: int, *, started: bool) -> Outcome:
        detail = "cancelled while running" if started else "cancelled before it started"
        self._ended(transition(self.ctx.store, self.job_id, JobState.CANCELLED, attempt=attempt, detail=detail,
                                      fence=self.fence))
        return Outcome.DONE

    def lost(self) -> None:
        pass  # someone else owns the job now; its state is theirs to write

    def retry(self, error: Failure, attempt: int, delay: float) -> Outcome:
        requeued = transition(self.ctx.store, self.job_id, JobState.QUEUED, attempt=attempt, failure=error,
                              detail=retry_detail(error.code, delay), fence=self.fence)
        self.ctx.enqueue(requeued, delay)
        return Outcome.RETRY

    def give_up(self, error: Failure, attempt: int, *, detail: str | None = None) -> Outcome:
        self.record = transition(self.ctx.store, self.job_id, JobState.FAILED, attempt=attempt, failure=error,
                                 detail=error.code if detail is None else detail, fence=self.fence)
        self._ended(self.record)
        return Outcome.DONE

    def _ended(self, record: JobRecord) -> None:
        """The job reached a terminal state: its kept encode goes; a chunked job's chunk objects and cached master
        too."""
        drop_finished(record.job_id, self.ctx.settings)
        if record.chunks is not None:
            chunks.cleanup(record.job_id, self.ctx.settings, self.ctx.storage)


def _work(record: JobRecord, attempt: int, scratch: Path, ctx: Context, keeper: LeaseKeeper,
          fence: Fence) -> str | None:
    """Fetch, transcode and publish; return the published location, or None when chunk tasks were sent."""
    spec = record.spec
    job_id = record.job_id
    board = record.chunks
    stitching = board is not None and board.complete
    kept = kept_encode(job_id, ctx.settings)
    if record.state is JobState.QUEUED:  # (a stitch delivered while encoding goes straight on)
        transition(ctx.store, job_id, JobState.FETCHING, attempt=attempt, detail=ctx.owner if kept is None else
                   f"{ctx.owner}: publishing the encode of attempt {kept.attempt} again (no encode)", fence=fence)
    if kept is not None:  # a publish retry: the encode is done and passed QC (workers.delivery.finished)
        return _publish(record, attempt, kept.output, ctx, keeper, fence)
    if board is not None and not board.complete:  # lost after planning: send the parts still queued
        resumed, queued = chunks.resume_chunks(ctx.store, record, attempt, fence=fence)
        for index in queued:
            ctx.enqueue_part(resumed, index, 0.0)
        return None
    policy = chunks.chunk_policy(spec.chunks, ctx.settings)
    chunkable = stitching or chunks.may_chunk(record, policy)
    source = (cached_master(job_id, spec.source, ctx.settings, ctx.storage) if chunkable
              else fetch(spec.source, scratch / "in", ctx.settings, ctx.storage))
    sidecars = tuple(Sidecar(language=s.language, path=fetch(s.uri, scratch / "in" / f"sub{n}", ctx.settings,
                                                             ctx.storage), forced=s.forced, sdh=s.sdh)
                     for n, s in enumerate(spec.subtitles))
    # errors name a bad master or sidecar as submitted, not as this worker's scratch copy
    fetched = {source: spec.source, **{s.path: ref.uri for s, ref in zip(sidecars, spec.subtitles, strict=True)}}
    request = transcode_request(  # the job's pin: this worker's own fingerprint (workers.queue.tasks admitted it)
        spec, source=source, output=scratch / "out" / job_id, subtitles=sidecars, scratch_root=scratch,
        fingerprint=record.encoder, per_title=board.per_title if board is not None else None)
    if board is not None:  # every part is done: stitch what they uploaded
        encoded = chunks.scratch_for_stitch(scratch)
        download_work(ctx.storage, job_id, encoded)
        request = dataclasses.replace(request, chunks=chunks.stitch_policy(board), encoded=encoded,
                                      encoded_runs=chunks.encoded_runs(board), encoded_wall=board.wall_seconds())
    elif chunkable:
        wanted = dataclasses.replace(request, chunks=policy)
        with named_as_submitted(fetched):  # bad input is rejected here
            title = plan_transcode(wanted, scratch=scratch)  # ladder per-title: the title's one analysis
            planned = chunks_for(wanted, title.plan)
        if planned:
            started = chunks.start_chunks(ctx.store, record, planned, attempt, fence=fence, per_title=title.per_title)
            for part in started.chunks.parts if started.chunks else ():
                ctx.enqueue_part(started, part.index, 0.0)
            return None
        request = dataclasses.replace(request, per_title_known=title.per_title)  # one chunk: not analysed again
    writer = StateWriter(ctx, job_id, attempt, keeper, stitching=stitching)
    with named_as_submitted(fetched):
        result = transcode(request, on_event=writer, cancel=keeper.cancel)
    metrics.record_transcode(result.report)
    kept_output = keep_encode(result.output, job_id, attempt, ctx.settings)  # a publish retry starts from here
    return _publish(record, attempt, kept_output, ctx, keeper, fence)


def _publish(record: JobRecord, attempt: int, output: Path, ctx: Context, keeper: LeaseKeeper,
             fence: Fence) -> str:
    """Sweep the title's abandoned versions, then publish a finished, QC-passed output folder; return where."""
    job_id, prefix = record.job_id, record.spec.output_prefix
    keeper.check()
    if keeper.cancel.is_set():
        raise Cancelled(f"job {job_id} stopped before publishing ({keeper.reason})")
    transition(ctx.store, job_id, JobState.PUBLISHING, attempt=attempt, fence=fence)
    faults.reached(JobState.PUBLISHING.value)  # test-only hook: a no-op unless a VODFLEET_FAULT_* variable is set
    sweep_quietly(ctx.storage, prefix, now=time.time(), grace=ctx.settings.claim_grace,
                  publishing=publishing_now(ctx.store))
    faults.publish_starts()  # test-only hook: a no-op unless VODFLEET_FAULT_FAIL_PUBLISH is set
    holder = ctx.store.leases().get(fence.lease_id)
    if holder != fence.owner:  # the storage is not fenced: a stale attempt (frozen past its lease) claims no version
        raise lease_lost(job_id, fence, holder)
    published = publish(output, ctx.storage, prefix, job_id=job_id, attempt=attempt,
                        on_phase=lambda phase: faults.reached(f"published-{phase}"))
    metrics.record_published(output)
    return published.location

"""A JobRecord → the API's job body (pure)."""

from __future__ import annotations

from workers.api.schemas import ChunkOut, ChunksOut, FailureOut, JobOut, PublishedOut, TransitionOut
from workers.jobs.state import JobRecord, JobState


def job_out(record: JobRecord, *, created: bool | None = None) -> JobOut:
    chunks = None
    if record.chunks is not None:
        chunks = ChunksOut(done=record.chunks.chunks_done, total=record.chunks.count,
                           parts=[ChunkOut(name=p.name, start=p.start, end=p.end, state=p.state.value,
                                           attempts=p.attempts, seconds=p.seconds, owner=p.owner or None)
                                  for p in record.chunks.parts])
    failure = record.failure
    published = None
    if record.state is JobState.PUBLISHED and record.output:
        published = PublishedOut(location=record.output, title=record.spec.output_prefix)
    return JobOut(
        job_id=record.job_id, state=record.state.value, created=created, percent=record.percent,
        eta_seconds=record.eta, source=record.spec.source, output_prefix=record.spec.output_prefix,
        priority=record.spec.priority, attempt=record.attempt, submitted_at=record.created,
        updated_at=record.updated, cancel_requested=record.cancel_requested, chunks=chunks,
        history=[TransitionOut(state=t.state.value, at=t.at, attempt=t.attempt, detail=t.detail)
                 for t in record.history],
        error=None if failure is None else FailureOut(code=failure.code, message=failure.message, hint=failure.hint,
                                                      retryable=failure.retryable, exit_code=failure.exit_code),
        published=published)

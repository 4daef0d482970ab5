"""A split-and-stitch job's record, changed part by part (pure; the stores apply these atomically).

    plan_board(chunks, at=, attempt=)           the board of a freshly planned job: every part queued
    begin_part(record, i, owner, at=)           a delivery took part i's lease: attempts + 1, running
    finish_part(record, i, owner, seconds, at=) part i uploaded: done; the job's percent and ETA follow
    requeue_part(record, i, at=, owner=)        part i goes back to queued (worker lost, shut down, retried)

Parts change only while the job is encoding; anything else raises ValueError naming the job and part,
which the store turns into `IllegalTransition` (the job moved on: finished, failed or cancelled).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.chunk import Chunk
from pipelines.pertitle.result import PerTitle
from workers.jobs.board import AUDIO, ChunkBoard, ChunkPart, PartState
from workers.jobs.state import JobRecord, JobState


def plan_board(chunks: Sequence[Chunk], *, at: float, attempt: int,
               per_title: PerTitle | None = None) -> ChunkBoard:
    parts = [ChunkPart(index=c.index, start=round(c.start, 6), end=round(c.end, 6), start_frame=c.start_frame,
                       end_frame=c.end_frame) for c in chunks]
    parts.append(ChunkPart(index=AUDIO, start=0.0, end=round(chunks[-1].end, 6)))
    return ChunkBoard(count=len(chunks), duration=round(chunks[-1].end, 6), dispatched=at, planned_attempt=attempt,
                      parts=tuple(parts), per_title=per_title)


def _board(record: JobRecord, index: int) -> tuple[ChunkBoard, ChunkPart]:
    board = record.chunks
    part = board.part(index) if board is not None else None
    if board is None or part is None:
        raise ValueError(f"job {record.job_id} has no chunk part {index}")
    if record.state is not JobState.ENCODING:
        raise ValueError(f"job {record.job_id} is {record.state}, not encoding: {part.name} is not wanted now")
    return board, part


def _with(record: JobRecord, board: ChunkBoard, at: float) -> JobRecord:
    percent, eta = board.progress(at)
    return record.model_copy(update={"chunks": board, "updated": at, "percent": percent, "eta": eta})


def begin_part(record: JobRecord, index: int, owner: str, *, at: float) -> JobRecord:
    board, part = _board(record, index)
    if part.state is PartState.DONE:
        raise ValueError(f"job {record.job_id}: {part.name} is already done")
    return _with(record, board.with_part(index, state=PartState.RUNNING, attempts=part.attempts + 1, owner=owner,
                                        began=at),
                 at)


def finish_part(record: JobRecord, index: int, owner: str, seconds: float, *, at: float) -> JobRecord:
    board, part = _board(record, index)
    if part.state is not PartState.RUNNING or part.owner != owner:
        raise ValueError(f"job {record.job_id}: {part.name} is {part.state} by {part.owner or 'nobody'}, "
                         f"not running by {owner}")
    return _with(record, board.with_part(index, state=PartState.DONE, seconds=round(seconds, 3), ended=at), at)


def requeue_part(record: JobRecord, index: int, *, at: float, owner: str | None = None) -> JobRecord:
    """Part `index` back to queued; with `owner`, only if that worker still holds it (else unchanged)."""
    board, part = _board(record, index)
    if part.state is not PartState.RUNNING or (owner is not None and part.owner != owner):
        return record
    return _with(record, board.with_part(index, state=PartState.QUEUED), at)

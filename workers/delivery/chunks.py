"""Split-and-stitch in the fleet: a job becomes chunk tasks, and comes back as one stitch task.

    run_job (coordinator)  fetch ─► probe + plan ─► plan_chunks ─► board in the record, state encoding ─►
                           one `run_part` message per chunk + one for the audio ─► ack (no lease kept)
    run_part × (n + 1)     each: encode its part, upload it under _chunks/<job>/, mark it done
                           (`workers.delivery.part`); the part that completes the board sends run_job again
    run_job (stitch)       download _chunks/<job>/ ─► pipelines.transcode(encoded=…): stitch checks,
                           package, QC ─► publish ─► _chunks/<job>/ deleted

This is a chord without a result backend: the state store is the counter (each part is marked done in
one atomic update, and exactly the update that completes the board triggers the stitch), so it works on
every broker the fleet supports, and a lost trigger is re-sent by the watchdog (`sweep_stitches`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

from pipelines.chunk import Chunk, ChunkPolicy
from pipelines.chunk_encode import ChunkRun
from pipelines.pertitle.result import PerTitle
from workers.delivery.inputs import drop_master
from workers.delivery.part_files import discard_work
from workers.jobs.board import ChunkBoard, PartState
from workers.jobs.parts import plan_board
from workers.jobs.state import JobRecord, JobState, apply
from workers.settings import Settings
from workers.storage.base import Storage
from workers.store.base import Fence, JobStore
from workers.store.ops import update_checked

log = logging.getLogger(__name__)


def chunk_policy(chunks: Literal["auto"] | int, settings: Settings) -> ChunkPolicy | None:
    """How a job's ``chunks`` asks to be cut (pure): `Settings.chunk_policy`."""
    return settings.chunk_policy(chunks)


def may_chunk(record: JobRecord, policy: ChunkPolicy | None) -> bool:
    """Whether planning could cut the job (pure): a count was asked, or the master's length is unknown or long."""
    if policy is None:
        return False
    return policy.count is not None or record.duration is None or record.duration > policy.threshold_seconds


def stitch_policy(board: ChunkBoard) -> ChunkPolicy:
    """The policy that re-derives exactly the board's chunks (pure)."""
    return ChunkPolicy(count=board.count)


def encoded_runs(board: ChunkBoard) -> tuple[ChunkRun, ...]:
    """The parts' ffmpeg wall times for report.json (pure)."""
    return tuple(ChunkRun(p.index, p.start, p.end, p.seconds) for p in board.parts if p.seconds is not None)


def start_chunks(store: JobStore, record: JobRecord, chunks: tuple[Chunk, ...], attempt: int, *,
                 fence: Fence | None = None, per_title: PerTitle | None = None) -> JobRecord:
    """Write the board and move the job to encoding (one atomic update); return the stored record. `per_title`:
    the title's analysis (ladder per-title), kept on the board for the parts and the stitch."""
    now = time.time()
    board = plan_board(chunks, at=now, attempt=attempt, per_title=per_title)
    shortest, longest = min(c.duration for c in chunks), max(c.duration for c in chunks)
    detail = f"{board.count} chunks ({shortest:.1f}–{longest:.1f} s) + the audio dispatched"

    def change(current: JobRecord) -> JobRecord:
        encoding = apply(current, JobState.ENCODING, at=now, attempt=attempt, detail=detail, percent=0.0)
        return encoding.model_copy(update={"chunks": board})

    return update_checked(store, record.job_id, change, fence=fence)


def resume_chunks(store: JobStore, record: JobRecord, attempt: int, *,
                  fence: Fence | None = None) -> tuple[JobRecord, list[int]]:
    """Back to encoding after a lost coordinator or stitch; return the record and the queued parts to re-send
    (a running part is its lease's business, a done one is kept)."""
    now = time.time()

    def change(current: JobRecord) -> JobRecord:
        board = current.chunks
        if board is None:
            raise ValueError(f"job {current.job_id} has no chunks to resume")
        percent, eta = board.progress(now)
        return apply(current, JobState.ENCODING, at=now, attempt=attempt, percent=percent, eta=eta,
                     detail=f"chunks resumed: {board.summary()}")

    updated = update_checked(store, record.job_id, change, fence=fence)
    board = updated.chunks
    queued = [p.index for p in board.parts if p.state is PartState.QUEUED] if board else []
    return updated, queued


def cleanup(job_id: str, settings: Settings, storage: Storage) -> None:
    """After a chunked job ended (published, failed, cancelled): its chunk objects and cached master go."""
    discard_work(storage, job_id)
    drop_master(job_id, settings)


def scratch_for_stitch(scratch: Path) -> Path:
    return scratch / "encoded"

"""ChunkBoard: where a split-and-stitch job's chunk tasks stand, kept in the job's record (pure).

One part per video chunk (index 0…n-1) and one for the title's audio (index -1, `AUDIO`). A part is
queued, running (one worker holds its lease) or done; `attempts` counts the deliveries that took its
lease, so a lost chunk is re-run alone and a chunk that keeps failing ends the job. Progress is the share
of the title's seconds whose chunks are done; the ETA extrapolates the wall time since the chunks were
dispatched (so it reflects however many workers take part). A per-title job (``--ladder per-title``) keeps here
the title's analysis made by the planning step: every part and the stitch plan from it instead of measuring again.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pipelines.pertitle.result import PerTitle

AUDIO = -1  # the part that encodes the whole title's audio (pipelines.chunk_encode.AUDIO)
_LEASE = re.compile(r"(job-[0-9a-f]{24})~part(-1|\d{1,5})")


def part_lease(job_id: str, index: int) -> str:
    """The lease id of one part in the state store (beside the job's own lease, which is the job id)."""
    return f"{job_id}~part{index}"


def parse_part_lease(lease: str) -> tuple[str, int] | None:
    """(job id, part index) of a part's lease id, or None for a job's own lease (pure)."""
    match = _LEASE.fullmatch(lease)
    return (match[1], int(match[2])) if match else None


class PartState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class ChunkPart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int  # chunk index, or AUDIO
    start: float  # seconds of the title it covers
    end: float
    start_frame: int = 0  # output frames (video chunks; checked against the worker's own re-planning)
    end_frame: int = 0
    state: PartState = PartState.QUEUED
    attempts: int = 0
    owner: str = ""  # the worker of the latest attempt
    began: float | None = None  # unix time the latest attempt took the lease
    ended: float | None = None  # unix time it was marked done
    seconds: float | None = None  # ffmpeg wall time of the attempt that finished it

    @property
    def name(self) -> str:
        return "audio" if self.index == AUDIO else f"chunk {self.index}"


class ChunkBoard(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int  # video chunks
    duration: float  # seconds of the title (the end of the last chunk)
    dispatched: float  # unix time the parts were first sent
    planned_attempt: int  # the job attempt that planned the chunks (stitch attempts count from there)
    parts: tuple[ChunkPart, ...]
    # ladder per-title: the analysis that chose the rungs, made once by the planning step (the probe points,
    # curves, hull, chosen rungs with bitrate/maxrate/bufsize/crf: what report.json's per_title shows)
    per_title: PerTitle | None = None

    def part(self, index: int) -> ChunkPart | None:
        return next((p for p in self.parts if p.index == index), None)

    def with_part(self, index: int, **changes: object) -> ChunkBoard:
        parts = tuple(p.model_copy(update=changes) if p.index == index else p for p in self.parts)
        return self.model_copy(update={"parts": parts})

    @property
    def complete(self) -> bool:
        return all(p.state is PartState.DONE for p in self.parts)

    @property
    def chunks_done(self) -> int:
        return sum(1 for p in self.parts if p.index != AUDIO and p.state is PartState.DONE)

    def progress(self, now: float) -> tuple[float, float | None]:
        """(percent, ETA seconds or None before the first chunk finished) of the chunk phase."""
        done = sum(p.end - p.start for p in self.parts if p.index != AUDIO and p.state is PartState.DONE)
        share = done / self.duration if self.duration > 0 else 0.0
        if not self.complete:
            share = min(share, 0.99)  # the audio, or a chunk's upload, is still outstanding
        if share <= 0:
            return 0.0, None
        elapsed = max(0.0, now - self.dispatched)
        return round(share * 100, 1), round(elapsed * (1 - share) / share, 1)

    def wall_seconds(self) -> float | None:
        """From the first dispatch to the last part done (None until every part is done)."""
        ends = [p.ended for p in self.parts]
        if not self.complete or any(e is None for e in ends):
            return None
        return max(e for e in ends if e is not None) - self.dispatched

    def summary(self) -> str:
        running = sum(1 for p in self.parts if p.state is PartState.RUNNING)
        audio = self.part(AUDIO)
        audio_text = f", audio {audio.state.value}" if audio is not None else ""
        return f"chunks {self.chunks_done}/{self.count} done, {running} running{audio_text}"

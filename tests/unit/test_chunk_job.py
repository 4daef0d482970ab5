"""A chunked job's record, part by part (pure rules), and the watchdog's handling of part leases (real SQLite)."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.chunk import ChunkPolicy, plan_chunks
from workers.cli.jobview import block, progress_text
from workers.delivery.chunks import chunk_policy, encoded_runs, may_chunk, resume_chunks, start_chunks
from workers.delivery.watchdog import sweep
from workers.errors import IllegalTransition
from workers.jobs.board import AUDIO, PartState, parse_part_lease, part_lease
from workers.jobs.parts import begin_part, finish_part, plan_board, requeue_part
from workers.jobs.spec import JobSpec
from workers.jobs.state import JobRecord, JobState, apply
from workers.queue.tasks import decode_part
from workers.settings import Settings
from workers.store.ops import request_cancel, transition, update_checked
from workers.store.sqlite import SQLiteStore

JOB = "job-" + "ab" * 12
SPEC = JobSpec(source="masters/ep1.mov", output_prefix="titles/ep1")
CHUNKS = plan_chunks(36.0, 2, 2, Fraction(25), ChunkPolicy(count=4))


def encoding(at: float = 1000.0) -> JobRecord:
    record = JobRecord(job_id=JOB, spec=SPEC, created=at, updated=at)
    record = apply(apply(record, JobState.FETCHING, at=at, attempt=1), JobState.ENCODING, at=at)
    return record.model_copy(update={"chunks": plan_board(CHUNKS, at=at, attempt=1)})


def test_board_lists_every_chunk_and_the_audio() -> None:
    board = plan_board(CHUNKS, at=5.0, attempt=1)
    assert board.count == 4
    assert [(p.index, p.start, p.end) for p in board.parts] == [
        (0, 0.0, 10.0), (1, 10.0, 20.0), (2, 20.0, 28.0), (3, 28.0, 36.0), (AUDIO, 0.0, 36.0)]
    assert [(p.start_frame, p.end_frame) for p in board.parts[:4]] == [(0, 250), (250, 500), (500, 700), (700, 900)]
    assert all(p.state is PartState.QUEUED and p.attempts == 0 for p in board.parts)
    assert not board.complete


def test_parts_run_and_finish_with_progress_and_eta() -> None:
    record = begin_part(encoding(), 0, "host:1:a", at=1001.0)
    part = record.chunks.part(0) if record.chunks else None
    assert part is not None and part.state is PartState.RUNNING and part.attempts == 1 and part.began == 1001.0
    assert record.percent == 0.0 and record.eta is None  # nothing done yet: no ETA to extrapolate
    record = finish_part(record, 0, "host:1:a", 4.2, at=1010.0)
    assert record.percent == pytest.approx(10 / 36 * 100, abs=0.1)
    assert record.eta == pytest.approx(10 * 26 / 10, abs=0.2)  # 10 s of wall for 10 of 36 s → 26 s more
    for index in (1, 2, 3, AUDIO):
        record = finish_part(begin_part(record, index, "host:2:b", at=1011.0), index, "host:2:b", 1.0, at=1012.0)
    assert record.chunks is not None and record.chunks.complete
    assert record.percent == 100.0 and record.eta == 0.0
    assert record.chunks.wall_seconds() == 1012.0 - 1000.0  # first dispatch → last part done
    assert [r.index for r in encoded_runs(record.chunks)] == [0, 1, 2, 3, AUDIO]


def test_all_video_done_but_the_audio_is_not_100_percent() -> None:
    record = encoding()
    for index in range(4):
        record = finish_part(begin_part(record, index, "w", at=1001.0), index, "w", 1.0, at=1002.0)
    assert record.percent == 99.0
    assert record.chunks is not None and record.chunks.wall_seconds() is None  # the audio is not done


def test_part_rules_refuse_what_does_not_apply() -> None:
    record = begin_part(encoding(), 1, "w1", at=1001.0)
    with pytest.raises(ValueError, match="not running by w2"):
        finish_part(record, 1, "w2", 1.0, at=1002.0)  # another worker's attempt
    done = finish_part(record, 1, "w1", 1.0, at=1002.0)
    with pytest.raises(ValueError, match="already done"):
        begin_part(done, 1, "w2", at=1003.0)
    with pytest.raises(ValueError, match="no chunk part 9"):
        begin_part(done, 9, "w2", at=1003.0)
    failed = apply(done, JobState.FAILED, at=1004.0)
    with pytest.raises(ValueError, match="not encoding"):
        begin_part(failed, 2, "w2", at=1005.0)


def test_requeue_only_takes_back_the_owner_s_running_part() -> None:
    record = begin_part(encoding(), 2, "w1", at=1001.0)
    assert requeue_part(record, 2, at=1002.0, owner="w2") == record  # not its part: unchanged
    again = requeue_part(record, 2, at=1002.0, owner="w1")
    part = again.chunks.part(2) if again.chunks else None
    assert part is not None and part.state is PartState.QUEUED and part.attempts == 1
    assert requeue_part(again, 2, at=1003.0) == again  # queued already


def test_part_lease_ids_round_trip_and_never_look_like_a_job() -> None:
    assert parse_part_lease(part_lease(JOB, 3)) == (JOB, 3)
    assert parse_part_lease(part_lease(JOB, AUDIO)) == (JOB, AUDIO)
    assert parse_part_lease(JOB) is None
    assert parse_part_lease(JOB + "~part3/../x") is None


@pytest.mark.parametrize(("body", "index", "expected"), [
    (JOB, 0, (JOB, 0)), (JOB, -1, (JOB, -1)), (JOB, -2, None), (JOB, True, None), (JOB, "1", None),
    ("job-x", 1, None), (None, 1, None), (JOB, 100_000, None)])
def test_decode_part(body: object, index: object, expected: tuple[str, int] | None) -> None:
    assert decode_part(body, index) == expected


def test_chunk_policy_from_the_spec_and_the_fleet_settings() -> None:
    settings = Settings(chunk_threshold=120, chunk_target=30)
    auto = chunk_policy(SPEC.chunks, settings)
    assert auto == ChunkPolicy(threshold_seconds=120, target_seconds=30)
    assert chunk_policy(1, settings) is None
    assert chunk_policy(6, settings) == ChunkPolicy(count=6)
    short = JobRecord(job_id=JOB, spec=SPEC, created=0, updated=0, duration=60)
    assert not may_chunk(short, auto)  # known and short: no extra probe
    assert may_chunk(short.model_copy(update={"duration": None}), auto)  # unknown: probe and see
    assert may_chunk(short.model_copy(update={"duration": 121}), auto)
    assert may_chunk(short, ChunkPolicy(count=2))
    assert not may_chunk(short, None)


def test_chunking_is_how_a_job_runs_not_what_it_makes() -> None:
    assert SPEC.canonical() == SPEC.model_copy(update={"chunks": 4}).canonical()
    # The DASH sidecar opt-in changes what is made (a new id), while specs without it keep their ids.
    assert "dash_vtt_sidecar" not in SPEC.canonical()
    assert '"dash_vtt_sidecar":true' in SPEC.model_copy(update={"dash_vtt_sidecar": True}).canonical()
    with pytest.raises(ValueError, match="chunks"):
        JobSpec(source="m.mov", output_prefix="t", chunks=0)


def test_status_shows_the_chunks() -> None:
    record = finish_part(begin_part(encoding(), 0, "h:1:a", at=1001.0), 0, "h:1:a", 2.0, at=1010.0)
    assert "chunks 1/4" in progress_text(record)
    text = block(record)
    assert "chunks 1/4 done, 0 running, audio queued" in text
    assert "chunk 0" in text and "audio" in text


# --- with a real store ----------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")


def stored(store: SQLiteStore) -> JobRecord:
    now = time.time()
    store.create(JobRecord(job_id=JOB, spec=SPEC, created=now, updated=now))
    transition(store, JOB, JobState.FETCHING, attempt=1)
    return start_chunks(store, store.get(JOB) or pytest.fail("no record"), CHUNKS, 1)


def test_a_lapsed_part_lease_sends_that_part_again_alone(store: SQLiteStore) -> None:
    stored(store)
    store.update(JOB, lambda r: begin_part(r, 2, "dead-worker", at=time.time()))
    assert store.acquire(part_lease(JOB, 2), "dead-worker", 0.01)
    time.sleep(0.05)
    jobs: list[str] = []
    sent: list[tuple[str, int]] = []
    requeued = sweep(store, lambda r: jobs.append(r.job_id), lambda r, i: sent.append((r.job_id, i)))
    assert requeued == [part_lease(JOB, 2)]
    assert sent == [(JOB, 2)] and jobs == []
    record = store.get(JOB)
    assert record is not None and record.state is JobState.ENCODING
    part = record.chunks.part(2) if record.chunks else None
    assert part is not None and part.state is PartState.QUEUED and part.attempts == 1


def test_a_lost_stitch_is_sent_again(store: SQLiteStore) -> None:
    stored(store)
    for index in (0, 1, 2, 3, AUDIO):
        store.update(JOB, lambda r, i=index: finish_part(begin_part(r, i, "w", at=time.time()), i, "w", 1.0,
                                                          at=time.time()))
    jobs: list[str] = []
    assert sweep(store, lambda r: jobs.append(r.job_id), stitch_after=60) == []  # just finished: wait
    assert sweep(store, lambda r: jobs.append(r.job_id), stitch_after=0) == [JOB]
    assert jobs == [JOB]


def test_cancel_ends_a_chunked_job_at_once(store: SQLiteStore) -> None:
    stored(store)
    record = request_cancel(store, JOB)
    assert record.state is JobState.CANCELLED and record.cancel_requested
    with pytest.raises(IllegalTransition, match="cancelled, not encoding"):
        update_checked(store, JOB, lambda r: begin_part(r, 0, "w", at=time.time()))


def test_resume_after_a_lost_coordinator_resends_only_queued_parts(store: SQLiteStore) -> None:
    stored(store)
    store.update(JOB, lambda r: finish_part(begin_part(r, 0, "w", at=time.time()), 0, "w", 1.0, at=time.time()))
    store.update(JOB, lambda r: begin_part(r, 1, "w", at=time.time()))
    transition(store, JOB, JobState.QUEUED, detail="lease expired")
    transition(store, JOB, JobState.FETCHING, attempt=2)
    record, queued = resume_chunks(store, store.get(JOB) or pytest.fail("no record"), 2)
    assert record.state is JobState.ENCODING
    assert queued == [2, 3, AUDIO]

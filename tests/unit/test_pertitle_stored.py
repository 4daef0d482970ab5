"""A per-title analysis kept in the fleet job's record (the chunk board) and adopted by the parts and the stitch
instead of measured again; `target_vmaf` in the job spec, `vodfleet submit --target-vmaf` and the API (pure, plus
the real SQLite store)."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipelines.chunk import ChunkPolicy, plan_chunks
from pipelines.errors import ConfigError
from pipelines.pertitle.analysis import adopt
from pipelines.pertitle.curve import ProbePoint, convex_hull, curves_of
from pipelines.pertitle.result import PerTitle
from pipelines.pertitle.rungs import PerTitleOptions, choose_rungs
from pipelines.rendition import VideoRendition
from workers.api.schemas import JobRequest
from workers.cli.command import build_parser
from workers.cli.commands.submit import job_spec
from workers.delivery.chunks import start_chunks
from workers.errors import OptionInvalid
from workers.jobs.board import ChunkBoard
from workers.jobs.request import transcode_request
from workers.jobs.spec import InputIdentity, JobSpec, job_id
from workers.jobs.state import JobRecord, JobState
from workers.store.ops import transition
from workers.store.sqlite import SQLiteStore

JOB = "job-" + "cd" * 12
SIZES = {"360p": (640, 360), "234p": (416, 234)}
FIXED = (VideoRendition(id="234p", width=416, height=234, bitrate=300_000, maxrate=450_000, bufsize=600_000,
                        profile="main"),
         VideoRendition(id="360p", width=640, height=360, bitrate=800_000, maxrate=1_200_000, bufsize=1_600_000,
                        profile="main"))
POINTS = tuple(ProbePoint(*SIZES[size], crf=crf, bitrate=bitrate, vmaf=vmaf) for size, crf, bitrate, vmaf in (
    ("360p", 36, 90_000, 84.5), ("360p", 29, 180_000, 91.25), ("360p", 22, 360_000, 96.125),
    ("234p", 36, 60_000, 78.0), ("234p", 29, 120_000, 84.75), ("234p", 22, 240_000, 88.5)))
SOURCE = InputIdentity(uri="masters/abc/ep1.mp4", size=1000, etag="sha256-aa")
FP = "sha256:" + "0" * 64


AIMED = PerTitleOptions(target_vmaf=90)


def analysis(options: PerTitleOptions = AIMED) -> PerTitle:
    curves = curves_of(list(POINTS))
    return PerTitle(options=options, windows=((0.0, 2.0), (7.0, 2.0)), display=(640, 360), points=POINTS,
                    curves=tuple(curves), hull=tuple(convex_hull(list(POINTS))),
                    rungs=choose_rungs(curves, FIXED, options), fixed=FIXED, seconds=3.25)


def spec(**changes: object) -> JobSpec:
    return JobSpec.model_validate({"source": "masters/abc/ep1.mp4", "output_prefix": "outputs/ep1", **changes})


def test_the_analysis_survives_the_job_record_in_the_sqlite_store(tmp_path: Path) -> None:
    known = analysis()
    store = SQLiteStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    now = time.time()
    store.create(JobRecord(job_id=JOB, spec=spec(ladder="per-title", target_vmaf=90), created=now, updated=now))
    record = transition(store, JOB, JobState.FETCHING, attempt=1)
    chunks = plan_chunks(16.0, 2, 2, Fraction(25), ChunkPolicy(count=2))
    start_chunks(store, record, chunks, 1, per_title=known)
    again = store.get(JOB)
    assert again is not None and again.chunks is not None
    assert again.chunks.per_title == known  # every field, floats and tuples as they were
    assert again.chunks.per_title.video == known.video
    assert again.chunks.per_title.to_report() == known.to_report()
    # the JSON both store backends write (model_dump_json) round-trips on its own too (redis stores the same text)
    assert ChunkBoard.model_validate_json(again.chunks.model_dump_json()) == again.chunks


def test_a_board_without_the_field_still_reads() -> None:
    """Records written before the field existed (a board of a fixed-ladder job) load with no analysis."""
    board = ChunkBoard.model_validate({"count": 1, "duration": 8.0, "dispatched": 1.0, "planned_attempt": 1,
                                       "parts": [{"index": 0, "start": 0.0, "end": 8.0}]})
    assert board.per_title is None


def test_adopt_takes_the_stored_rungs_and_refuses_other_options_or_candidates() -> None:
    known = analysis()
    assert adopt(FIXED, known, PerTitleOptions(target_vmaf=90)) is known
    with pytest.raises(ConfigError, match="target VMAF 90") as info:
        adopt(FIXED, known, PerTitleOptions(target_vmaf=94))
    assert "--force" in (info.value.hint or "")
    with pytest.raises(ConfigError, match=r"chose among rungs \['234p', '360p'\], this plan offers \['234p'\]"):
        adopt(FIXED[:1], known, PerTitleOptions(target_vmaf=90))


def test_the_request_carries_the_target_and_the_stored_analysis() -> None:
    known = analysis()
    request = transcode_request(spec(ladder="per-title", target_vmaf=90), source=Path("/in.mp4"),
                                output=Path("/out"), per_title=known)
    assert request.per_title == PerTitleOptions(target_vmaf=90) and request.per_title_known is known
    plain = transcode_request(spec(ladder="per-title"), source=Path("/in.mp4"), output=Path("/out"))
    assert plain.per_title == PerTitleOptions() and plain.per_title_known is None


def test_target_vmaf_is_in_the_job_id_only_when_given() -> None:
    default = spec(ladder="per-title")
    assert default.target_vmaf is None and "target_vmaf" not in default.canonical()
    aimed = spec(ladder="per-title", target_vmaf=90)
    assert '"target_vmaf":90.0' in aimed.canonical()
    assert job_id(aimed, (SOURCE,), FP) != job_id(default, (SOURCE,), FP)
    assert job_id(spec(ladder="per-title", target_vmaf=90.0), (SOURCE,), FP) == job_id(aimed, (SOURCE,), FP)


@pytest.mark.parametrize(("changes", "message"), [
    ({"target_vmaf": 90}, "target VMAF 90 is for ladder 'per-title' only, this job's is 'default'"),
    ({"ladder": "per-title", "target_vmaf": 100}, "less than or equal to 99"),
    ({"ladder": "per-title", "target_vmaf": 20}, "greater than or equal to 50")])
def test_a_bad_target_vmaf_is_refused_naming_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        spec(**changes)
    assert [e["loc"] for e in info.value.errors()] == [("target_vmaf",)]


def test_submit_takes_target_vmaf_and_names_the_option_when_refused() -> None:
    args = build_parser().parse_args(["submit", "ep.mov", "--ladder", "per-title", "--target-vmaf", "92.5"])
    assert (args.ladder, args.target_vmaf) == ("per-title", 92.5)
    fields = {"source": "masters/abc/ep1.mp4", "output_prefix": "outputs/ep1"}
    assert job_spec(**fields, ladder=args.ladder, target_vmaf=args.target_vmaf).target_vmaf == 92.5
    with pytest.raises(OptionInvalid, match=r"--target-vmaf: target VMAF 92.5 is for ladder 'per-title' only"):
        job_spec(**fields, ladder="default", target_vmaf=92.5)


def test_the_api_request_takes_target_vmaf() -> None:
    body = JobRequest.model_validate({"source": "upload:up_0123456789abcdef", "ladder": "per-title",
                                      "target_vmaf": 91})
    assert body.target_vmaf == 91
    assert JobRequest.model_validate({"source": "upload:up_0123456789abcdef"}).target_vmaf is None

"""`per-title` as a ladder choice: the CLI and the job spec take it, `--target-vmaf` only goes with it."""

from __future__ import annotations

import pytest

from pipelines.errors import ConfigError
from pipelines.ladder import PER_TITLE, builtin_ladders, load_ladder
from workers.cli.command import build_parser
from workers.cli.commands.transcode import request_from
from workers.jobs.spec import JobSpec


def test_per_title_is_a_ladder_choice_whose_candidates_are_the_default_ladder() -> None:
    assert PER_TITLE in builtin_ladders()
    ladder = load_ladder(PER_TITLE)
    assert ladder.name == PER_TITLE and ladder.rungs == load_ladder("default").rungs


def test_the_job_spec_and_submit_take_per_title() -> None:
    spec = JobSpec.model_validate({"source": "masters/abc/ep1.mp4", "output_prefix": "outputs/ep1",
                                   "ladder": PER_TITLE})
    assert spec.ladder == PER_TITLE
    args = build_parser().parse_args(["submit", "ep.mov", "--ladder", "per-title"])
    assert args.ladder == "per-title"


def test_target_vmaf_goes_to_the_request() -> None:
    args = build_parser().parse_args(["transcode", "ep.mov", "-o", "out", "--ladder", "per-title",
                                      "--target-vmaf", "95"])
    request = request_from(args)
    assert (request.ladder, request.per_title.target_vmaf) == ("per-title", 95.0)


def test_target_vmaf_without_per_title_is_refused() -> None:
    args = build_parser().parse_args(["transcode", "ep.mov", "-o", "out", "--target-vmaf", "95"])
    with pytest.raises(ConfigError, match="--target-vmaf") as info:
        request_from(args)
    assert "per-title" in (info.value.hint or "")

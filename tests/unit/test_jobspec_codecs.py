"""JobSpec.codecs: validated and ordered like --codecs, and in the job id only when not the default (pure)."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from workers.cli.args import codec_list
from workers.jobs.spec import InputIdentity, JobSpec, job_id

SOURCE = InputIdentity(uri="masters/abc/ep1.mp4", size=1000, etag="sha256-aa")
FP = "sha256:" + "0" * 64


def spec(**changes: object) -> JobSpec:
    return JobSpec.model_validate({"source": "masters/abc/ep1.mp4", "output_prefix": "outputs/ep1", **changes})


def test_default_codecs_keep_old_job_ids() -> None:
    assert spec().codecs == ("h264",)
    assert "codecs" not in spec().canonical()
    assert job_id(spec(codecs=["h264"]), (SOURCE,), FP) == job_id(spec(), (SOURCE,), FP)


def test_other_codecs_count_and_are_canonical() -> None:
    both = spec(codecs=["av1", "h264", "hevc"])
    assert both.codecs == ("h264", "hevc", "av1")
    assert '"codecs":["h264","hevc","av1"]' in both.canonical()
    assert job_id(both, (SOURCE,), FP) != job_id(spec(), (SOURCE,), FP)
    assert job_id(both, (SOURCE,), FP) == job_id(spec(codecs=["h264", "hevc", "av1"]), (SOURCE,), FP)


@pytest.mark.parametrize(("value", "message"), [(["h264", "vp9"], "unknown codec"), (["av1"], "leaves out h264")])
def test_bad_codecs_are_refused(value: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(codecs=value)


def test_cli_type() -> None:
    assert codec_list("h264,av1") == ("h264", "av1")
    with pytest.raises(argparse.ArgumentTypeError, match="leaves out h264"):
        codec_list("hevc")

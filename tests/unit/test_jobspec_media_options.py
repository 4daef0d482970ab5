"""JobSpec thumbnail and caption options: validated by the pipeline's own option types, mapped to them, and in
the job id only when not at their defaults (ids of specs written before the fields existed stay the same)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipelines.captions.service import CaptionOptions
from pipelines.storyboard_options import StoryboardOptions
from workers.cli.commands.submit import job_spec
from workers.errors import OptionInvalid
from workers.jobs.spec import JobSpec, ThumbnailSpec


def spec(**fields: object) -> JobSpec:
    return JobSpec(source="masters/ep.mp4", output_prefix="outputs/ep", **fields)  # type: ignore[arg-type]


def test_defaults_stay_out_of_the_canonical_spec() -> None:
    plain = spec().canonical()
    for name in ("thumbnails", "captions", "caption_languages"):
        assert name not in plain
    assert spec(thumbnails={"interval": 4.0}).canonical() != plain
    assert spec(captions="both").canonical() != plain
    assert spec(caption_languages=("cc3=spa",)).canonical() != plain


def test_the_spec_maps_to_the_pipeline_options() -> None:
    job = spec(thumbnails={"interval": 0.5, "width": 96, "columns": 3, "rows": 2}, captions="in-band",
               caption_languages=("cc3=spa", "SERVICE1=en"))
    assert job.thumbnails.options() == StoryboardOptions(interval=0.5, tile_width=96, columns=3, rows=2)
    assert job.caption_languages == ("CC3=es", "SERVICE1=en")
    assert job.caption_options() == CaptionOptions("in-band", (("CC3", "es"), ("SERVICE1", "en")))
    assert spec(thumbnails={"enabled": False}).thumbnails.options().enabled is False
    assert spec().thumbnails == ThumbnailSpec()


def test_bad_options_are_refused_naming_the_flag() -> None:
    with pytest.raises(ValidationError, match=r"outside 16\.\.1280"):
        spec(thumbnails={"width": 4000})
    with pytest.raises(OptionInvalid, match="--thumbnail-\\*: storyboard grid 0x2"):
        job_spec(source="masters/ep.mp4", output_prefix="outputs/ep", thumbnails={"columns": 0, "rows": 2})
    with pytest.raises(OptionInvalid, match="--captions: unknown caption mode 'sei'"):
        job_spec(source="masters/ep.mp4", output_prefix="outputs/ep", captions="sei")
    with pytest.raises(OptionInvalid, match="--caption-language: 'CC9=en' is not CHANNEL=LANG"):
        job_spec(source="masters/ep.mp4", output_prefix="outputs/ep", caption_languages=("CC9=en",))

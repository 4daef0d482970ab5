"""JobSpec validation and deterministic job ids (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workers.jobs.spec import InputIdentity, JobSpec, SubtitleRef, job_id

SOURCE = InputIdentity(uri="masters/abc/ep1.mp4", size=1000, etag="sha256-aa")
FP = "sha256:" + "0" * 64


def spec(**changes: object) -> JobSpec:
    fields: dict[str, object] = {"source": "masters/abc/ep1.mp4", "output_prefix": "outputs/ep1"}
    fields.update(changes)
    return JobSpec.model_validate(fields)


def test_spec_is_frozen_versioned_and_strict() -> None:
    s = spec()
    assert s.spec_version == 1
    with pytest.raises(ValidationError):
        s.priority = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        spec(colour="red")
    with pytest.raises(ValidationError, match="spec_version"):
        spec(spec_version=2)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("source", "/abs/path.mp4", "absolute"),
    ("source", "http://host/x.mp4", "allowed: s3://"),
    ("source", "s3://bucket", "s3://BUCKET/KEY"),
    ("source", "a/../b.mp4", "'..'"),
    ("output_prefix", "out put", "unsafe"),
    ("priority", 10, "less than or equal to 9"),
    ("priority", -1, "greater than or equal to 0"),
    ("ladder", "mine.toml", "allowed: compact, default"),
    ("profile", "ultra", "allowed: draft, fast, quality"),
    ("segment_seconds", 3, "multiple of 2"),
    ("audio_languages", ("klingon!",), "klingon"),
])
def test_spec_rejects_with_the_field_and_allowed_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        spec(**{field: value})
    assert field in str(info.value)
    assert message in str(info.value)


def test_languages_are_normalized_to_bcp47() -> None:
    s = spec(subtitles=[{"language": "kor", "uri": "subs/ko.srt"}], audio_languages=["pt_br"])
    assert s.subtitles == (SubtitleRef(language="ko", uri="subs/ko.srt"),)
    assert s.audio_languages == ("pt-BR",)
    assert spec(source="s3://media-in/eps/ep1.mov").source == "s3://media-in/eps/ep1.mov"


def test_job_id_is_deterministic_and_depends_on_what_decides_the_output() -> None:
    first = job_id(spec(), (SOURCE,), FP)
    assert first == job_id(spec(), (SOURCE,), FP)
    assert first.startswith("job-") and len(first) == 28
    assert job_id(spec(priority=9), (SOURCE,), FP) == first  # priority changes the queue order, not the output
    others = {
        job_id(spec(profile="draft"), (SOURCE,), FP),
        job_id(spec(), (InputIdentity(uri=SOURCE.uri, size=1000, etag="sha256-bb"),), FP),
        job_id(spec(), (InputIdentity(uri=SOURCE.uri, size=1000, etag="sha256-aa", version="v2"),), FP),
        job_id(spec(), (SOURCE,), "sha256:" + "1" * 64),
        job_id(spec(), (SOURCE,), FP, revision=1),
    }
    assert first not in others
    assert len(others) == 5


def test_an_audio_map_is_part_of_the_job_and_an_empty_one_keeps_old_ids() -> None:
    plain = spec()
    assert "audio_map" not in plain.canonical()  # ids of jobs submitted before the field existed stay the same
    mapped = spec(audio_map=("1+2=en", "3+4=EN:AD"))
    assert mapped.audio_map == ("1+2=en:main", "3+4=en:description")
    assert job_id(mapped, (SOURCE,), FP) != job_id(plain, (SOURCE,), FP)
    assert [e.role for e in mapped.audio_map_entries()] == ["main", "description"]
    with pytest.raises(ValidationError, match="unknown role"):
        spec(audio_map=("1+2=en:karaoke",))


def test_the_51_rendition_option_is_part_of_the_job_only_when_set() -> None:
    plain = spec()
    assert "surround" not in plain.canonical()  # ids of jobs submitted before the field existed stay the same
    surround = spec(surround=True)
    assert '"surround":true' in surround.canonical()
    assert job_id(surround, (SOURCE,), FP) != job_id(plain, (SOURCE,), FP)

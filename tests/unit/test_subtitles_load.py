"""load_sidecar end to end: the committed samples against expected.json, bad fixtures, and caps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.errors import SubtitleRejected
from pipelines.subtitles import Cue, SubtitleLimits, document_from_bytes, load_sidecar, to_webvtt

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_media" / "subtitles"
FIXTURES = ROOT / "tests" / "fixtures" / "subtitles"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
CLIP_SECONDS = 5.3


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_sidecar_matches_expected_json(name: str) -> None:
    expected = EXPECTED[name]
    doc = load_sidecar(SAMPLES / name, expected["language"], duration=CLIP_SECONDS)
    assert doc.language == expected["language"]
    assert doc.charset == expected["charset"]
    assert doc.source_format == name.rsplit(".", 1)[1]
    assert [{"start": c.start, "end": c.end, "text": c.text} for c in doc.cues] == expected["cues"]


def test_samples_share_timing_and_show_a_line_break_and_italics() -> None:
    timings = {tuple((c["start"], c["end"]) for c in sample["cues"]) for sample in EXPECTED.values()}
    assert len(timings) == 1
    [timing] = timings
    assert all(0.3 <= start < end <= 5.2 for start, end in timing)
    for sample in EXPECTED.values():
        texts = [c["text"] for c in sample["cues"]]
        assert any("\n" in t for t in texts) and any(t.startswith("<i>") for t in texts)


def test_arabic_sample_keeps_its_rtl_mark() -> None:
    doc = load_sidecar(SAMPLES / "bigbuckbunny.ar.vtt", "ar")
    assert doc.cues[0].text.startswith("\u200f")
    assert "\u200f" in to_webvtt(doc)


def test_language_is_canonicalised_and_checked() -> None:
    assert load_sidecar(SAMPLES / "bigbuckbunny.ko.srt", "kor").language == "ko"
    with pytest.raises(SubtitleRejected) as caught:
        load_sidecar(SAMPLES / "bigbuckbunny.ko.srt", "../../ko")
    assert caught.value.code == "language_invalid"


def test_big5_sample_declared_korean_is_refused() -> None:
    with pytest.raises(SubtitleRejected) as caught:
        load_sidecar(SAMPLES / "bigbuckbunny.zh-Hant.srt", "ko")
    assert caught.value.code == "subtitle_charset_unknown"
    assert "bigbuckbunny.zh-Hant.srt" in str(caught.value) and "'ko'" in str(caught.value)


@pytest.mark.parametrize(
    ("fixture", "language", "code"),
    [
        ("undecodable.srt", "es", "subtitle_charset_unknown"),
        ("undecodable.srt", "ko", "subtitle_charset_unknown"),
        ("entity.ttml", "en", "subtitle_unsafe_xml"),
        ("empty.srt", "en", "subtitle_unparseable"),
        ("png_renamed.srt", "en", "subtitle_unparseable"),
        ("no_cues.vtt", "en", "subtitle_unparseable"),
        ("does_not_exist.srt", "en", "subtitle_unreadable"),
    ],
)
def test_bad_fixtures_are_rejected(fixture: str, language: str, code: str) -> None:
    with pytest.raises(SubtitleRejected) as caught:
        load_sidecar(FIXTURES / fixture, language)
    error = caught.value
    assert error.code == code
    assert error.retryable is False
    assert fixture in error.path
    assert error.hint
    if code == "subtitle_unparseable":
        assert "SRT" in error.hint and "WebVTT" in error.hint


def test_png_is_named_as_such() -> None:
    with pytest.raises(SubtitleRejected, match="PNG"):
        load_sidecar(FIXTURES / "png_renamed.srt", "en")


def test_too_large_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.srt"
    path.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nx\n" * 100)
    with pytest.raises(SubtitleRejected) as caught:
        load_sidecar(path, "en", limits=SubtitleLimits(max_bytes=1000))
    assert caught.value.code == "subtitle_too_large"


def test_over_long_line_is_rejected_not_truncated() -> None:
    data = ("1\n00:00:01,000 --> 00:00:02,000\n" + "a" * 101 + "\n").encode()
    with pytest.raises(SubtitleRejected) as caught:
        document_from_bytes(data, "en", source="long.srt", limits=SubtitleLimits(max_line_chars=100))
    assert caught.value.code == "subtitle_line_too_long"
    assert "line 3" in caught.value.message


def test_too_many_cues_and_late_timestamps_through_the_loader() -> None:
    many = "".join(f"00:00:{i:02d},000 --> 00:00:{i:02d},500\nx\n\n" for i in range(5)).encode()
    with pytest.raises(SubtitleRejected, match="5 cues") as caught:
        document_from_bytes(many, "en", source="m.srt", limits=SubtitleLimits(max_cues=4))
    assert caught.value.code == "subtitle_too_many_cues"
    late = b"1\n25:00:00,000 --> 25:00:01,000\nx\n"
    with pytest.raises(SubtitleRejected) as caught:
        document_from_bytes(late, "en", source="late.srt")
    assert caught.value.code == "subtitle_timestamp_invalid"


def test_every_cue_after_the_media_end() -> None:
    data = b"1\n00:01:00,000 --> 00:01:02,000\nafter the end\n"
    with pytest.raises(SubtitleRejected) as caught:
        document_from_bytes(data, "en", source="late.srt", duration=CLIP_SECONDS)
    assert caught.value.code == "subtitle_out_of_range"


def test_extension_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "actually_webvtt.srt"
    path.write_text("WEBVTT\n\nNOTE not a cue\n\n00:01.000 --> 00:02.000\nhi\n", encoding="utf-8")
    doc = load_sidecar(path, "en")
    assert (doc.source_format, doc.cues) == ("vtt", (Cue(1.0, 2.0, "hi"),))


def test_utf16_srt_without_bom_loads() -> None:
    data = "1\r\n00:00:01,000 --> 00:00:02,000\r\n¿Qué?\r\n".encode("utf-16-le")
    doc = document_from_bytes(data, "es", source="u16.srt")
    assert (doc.charset, doc.cues) == ("utf-16-le", (Cue(1.0, 2.0, "¿Qué?"),))

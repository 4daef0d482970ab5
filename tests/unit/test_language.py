"""Language tags: canonical BCP-47, ISO 639-2 mapping, labels, and refusals."""

from __future__ import annotations

import re

import pytest

from pipelines.errors import SubtitleRejected
from pipelines.language import iso639_2t, language_name, normalize_language, parse_iso639_2


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ko", "ko"), ("KO", "ko"), ("kor", "ko"), ("chi", "zh"), ("zho", "zh"), ("fre", "fr"), ("fra", "fr"),
        ("ger", "de"), ("deu", "de"), ("und", "und"), ("en", "en"), ("eng", "en"),
        ("zh-Hant", "zh-Hant"), ("zh-hant", "zh-Hant"), ("ZH_HANT", "zh-Hant"), ("zh-Hant-TW", "zh-Hant-TW"),
        ("pt_br", "pt-BR"), ("pt-br", "pt-BR"), ("es-419", "es-419"), ("sr-Latn", "sr-Latn"),
        (" en ", "en"), ("iw", "he"), ("yue", "yue"), ("fil", "fil"),
    ],
)
def test_normalize_language_canonical_form(tag: str, expected: str) -> None:
    assert normalize_language(tag) == expected


@pytest.mark.parametrize(
    "tag",
    ["", "e", "english", "en-", "en-US-x-private", "../etc", "en/US", "zh-Hant-TW-extra", "en US", "12",
     "en-1234", "en-U", "ko\u00e9", "en\u0301"],
)
def test_normalize_language_rejects_everything_else(tag: str) -> None:
    with pytest.raises(SubtitleRejected) as caught:
        normalize_language(tag, source="movie.xx.srt")
    assert caught.value.code == "language_invalid"
    assert caught.value.path == "movie.xx.srt"
    assert caught.value.hint


@pytest.mark.parametrize("tag", ["kor", "pt_br", "zh-hant-tw", "ES-419", "und"])
def test_normalized_tags_are_safe_path_segments(tag: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9-]+", normalize_language(tag))


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("en", "English"), ("ko", "Korean"), ("zh-Hant", "Chinese (Traditional)"), ("zh-Hans", "Chinese (Simplified)"),
        ("pt-BR", "Portuguese (Brazil)"), ("es-419", "Spanish (Latin America)"), ("kor", "Korean"),
        ("ar", "Arabic"), ("qaa", "qaa"), ("not a tag", "not a tag"), ("en-ZZ", "English (ZZ)"),
    ],
)
def test_language_name(tag: str, name: str) -> None:
    assert language_name(tag) == name


@pytest.mark.parametrize(
    ("code", "expected"),
    [("eng", "en"), ("kor", "ko"), ("chi", "zh"), ("und", None), (None, None), ("", None), ("   ", None),
     ("English", None), ("spa", "es")],
)
def test_parse_iso639_2(code: str | None, expected: str | None) -> None:
    assert parse_iso639_2(code) == expected


@pytest.mark.parametrize(("tag", "code"), [("en", "eng"), ("pt-BR", "por"), ("zh-Hant", "zho"), ("fr", "fra"),
                                           ("fil", "fil"), ("und", "und"), ("x-klingon", "und")])
def test_mdhd_language_is_iso639_2t(tag: str, code: str) -> None:
    assert iso639_2t(tag) == code  # the terminology code (fra, zho), not the bibliographic one (fre, chi)

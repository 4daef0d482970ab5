"""Decoding: BOMs, BOM-less UTF-16, legacy code pages chosen by the declared language, and refusals."""

from __future__ import annotations

import codecs
import random

import pytest

from pipelines.errors import SubtitleRejected
from pipelines.subtitles import document_from_bytes
from pipelines.subtitles.decode import code_pages, decide_charset, decode, unicode_encoding
from pipelines.subtitles.script import implausibility, script_of

SRT_HEAD = "1\n00:00:00,500 --> 00:00:02,000\n"
TEXTS = {  # declared language -> (text, the legacy codec an old authoring tool would have used)
    "ko": (SRT_HEAD + "토끼가 풀밭에서 깨어납니다.\n아침 햇살이 따뜻해요.\n", "cp949"),
    "zh-Hant": (SRT_HEAD + "兔子在草地上醒來。\n早晨的陽光很溫暖。\n", "big5"),
    "zh": (SRT_HEAD + "兔子在草地上醒来。\n早晨的阳光很温暖。\n", "gb18030"),
    "ja": (SRT_HEAD + "ウサギが草原で目を覚ます。\n朝はあたたかい。\n", "cp932"),
    "ar": (SRT_HEAD + "يستيقظ الأرنب في المرج.\nالصباح دافئ.\n", "cp1256"),
    "ru": (SRT_HEAD + "Кролик просыпается на лугу.\nУтро тёплое.\n", "cp1251"),
    "es": (SRT_HEAD + "¿Dónde está el conejo?\nMañana será otro día.\n", "cp1252"),
}


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
     (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")],
)
def test_bom_is_honoured_and_stripped(bom: bytes, codec: str) -> None:
    text = TEXTS["ko"][0]
    assert decode(bom + text.encode(codec), "ko", source="s.srt") == (text, codec)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_bom_are_detected_from_nul_bytes(codec: str) -> None:
    text = TEXTS["zh-Hant"][0]
    assert unicode_encoding(text.encode(codec)) == (codec, 0)
    assert decode(text.encode(codec), "zh-Hant", source="s.srt") == (text, codec)


def test_valid_utf8_is_utf8_whatever_the_language() -> None:
    text = TEXTS["ru"][0]
    assert decode(text.encode(), "ko", source="s.srt") == (text, "utf-8")


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_legacy_charset_chosen_by_declared_language(language: str) -> None:
    text, codec = TEXTS[language]
    decoded, charset = decode(text.encode(codec), language, source="s.srt")
    assert decoded == text
    assert charset in code_pages(language)[0]


@pytest.mark.parametrize(
    ("written", "declared"),
    [(written, declared) for written in TEXTS for declared in TEXTS if written != declared],
)
def test_wrongly_declared_language_is_refused_never_mojibake(written: str, declared: str) -> None:
    text, codec = TEXTS[written]
    with pytest.raises(SubtitleRejected) as caught:
        decode(text.encode(codec), declared, source="film.srt")
    error = caught.value
    assert error.code == "subtitle_charset_unknown"
    assert "film.srt" in str(error) and repr(declared) in str(error)
    assert "UTF-8" in error.hint and "language" in error.hint


def test_big5_declared_as_korean_is_refused() -> None:
    with pytest.raises(SubtitleRejected, match="'ko'"):
        decode(TEXTS["zh-Hant"][0].encode("big5"), "ko", source="x.srt")


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(seed: int) -> None:
    data = random.Random(seed).randbytes(3000)
    with pytest.raises(SubtitleRejected) as caught:
        decode(data, "es", source="noise.srt")
    assert caught.value.code == "subtitle_charset_unknown"


def test_unknown_language_needs_utf8() -> None:
    with pytest.raises(SubtitleRejected, match="no legacy charset"):
        decode(TEXTS["es"][0].encode("cp1252"), "und", source="x.srt")


def test_bom_with_invalid_body_is_refused() -> None:
    with pytest.raises(SubtitleRejected, match="utf-8"):
        decode(codecs.BOM_UTF8 + b"\xff\xfe\xfd", "en", source="x.srt")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ko", ("cp949",)), ("zh-Hant", ("cp950", "big5hkscs")), ("zh-TW", ("cp950", "big5hkscs")),
     ("zh", ("gb18030",)), ("zh-Hans", ("gb18030",)), ("ja", ("cp932", "euc_jp")), ("fa", ("cp1256", "iso8859_6")),
     ("uk", ("cp1251", "koi8_u")), ("sr-Latn", ("cp1250",)), ("pt-BR", ("cp1252",)), ("und", ())],
)
def test_code_pages_by_language(language: str, expected: tuple[str, ...]) -> None:
    assert code_pages(language)[0] == expected


def test_script_classification_and_plausibility() -> None:
    assert [script_of(c) for c in "a한漢かКعא"] == ["Latin", "Hangul", "Han", "Kana", "Cyrillic", "Arabic", "Hebrew"]
    assert implausibility("plain ascii", frozenset({"Hangul"})) is None
    assert implausibility("한국어 자막", frozenset({"Hangul"})) is None
    assert implausibility("Кролик", frozenset({"Hangul"})) is not None
    assert implausibility("Espaсol Maсana", frozenset({"Cyrillic"})) is not None  # mixed-script words
    assert implausibility("ÇÑ±¹¾î Ç®¹ç", frozenset({"Latin"})) is not None  # Korean read as CP1252
    assert implausibility("x\x85y", frozenset({"Latin"})) is not None  # a C1 control


# --- short files: the declared language's script decides ------------------------------------------

def _two_cues(first: str, second: str) -> str:
    return (f"1\r\n00:00:01,000 --> 00:00:03,000\r\n{first}\r\n\r\n"
            f"2\r\n00:00:04,000 --> 00:00:06,000\r\n{second}\r\n")


def test_issue_case_short_cp1256_arabic_with_crlf_is_decoded() -> None:
    # Refused before: charset-normalizer's chaos score preferred mac_greek for these 40 bytes.
    data = _two_cues("مرحبا بالعالم", "إلى اللقاء").encode("cp1256")
    doc = document_from_bytes(data, "ar", source="promo.ar.srt")
    assert doc.charset == "cp1256"
    assert [(c.start, c.end, c.text) for c in doc.cues] == [(1.0, 3.0, "مرحبا بالعالم"), (4.0, 6.0, "إلى اللقاء")]
    assert doc.charset_reason.startswith("cp1256: decodes without errors and its text is in the Arabic script")
    assert "iso8859_6: invalid byte" in doc.charset_reason  # the other candidate, and why it lost


SHORT = [  # (declared language, encoding written, expected codec, two short cues)
    ("ko", "cp949", "cp949", ("안녕하세요", "감사합니다")),
    ("zh", "gb18030", "gb18030", ("你好，世界", "再见")),
    ("zh-Hans", "gb2312", "gb18030", ("我们走吧", "明天见")),
    ("zh-Hant", "big5", "cp950", ("你好，世界", "再見")),
    ("ja", "shift_jis", "cp932", ("こんにちは", "さようなら")),
    ("ja", "euc_jp", "euc_jp", ("ありがとう", "またね")),
    ("ar", "cp1256", "cp1256", ("مرحبا بالعالم", "إلى اللقاء")),
    ("fa", "cp1256", "cp1256", ("سلام", "خداحافظ")),
    ("ru", "cp1251", "cp1251", ("Привет, мир", "До свидания")),
    ("ru", "koi8_r", "koi8_r", ("Привет, мир", "До свидания")),
    ("uk", "cp1251", "cp1251", ("Привіт, світе", "До побачення")),
    ("he", "cp1255", "cp1255", ("שלום עולם", "להתראות")),
    ("el", "cp1253", "cp1253", ("Γεια σου κόσμε", "Αντίο")),
    ("fr", "cp1252", "cp1252", ("Ça va très bien", "À bientôt")),
    ("de", "cp1252", "cp1252", ("Schöne Grüße", "Tschüß")),
    ("pl", "cp1250", "cp1250", ("Zażółć gęślą jaźń", "Cześć")),
    ("tr", "cp1254", "cp1254", ("Günaydın dünya", "Hoşça kal")),
    ("th", "cp874", "cp874", ("สวัสดีชาวโลก", "ลาก่อน")),
]


@pytest.mark.parametrize(("language", "written", "expected", "texts"), SHORT,
                         ids=[f"{lang}-{written}" for lang, written, _, _ in SHORT])
def test_short_legacy_files_decode_by_declared_script(language: str, written: str, expected: str,
                                                      texts: tuple[str, str]) -> None:
    data = _two_cues(*texts).encode(written)
    doc = document_from_bytes(data, language, source=f"short.{language}.srt")
    assert doc.charset == expected
    assert tuple(c.text for c in doc.cues) == texts
    assert doc.charset_reason.startswith(f"{expected}: decodes without errors")


@pytest.mark.parametrize(("prefix", "codec"), [
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    (b"", "utf-16-le"), (b"", "utf-16-be"), (b"", "utf-8")])
def test_short_unicode_files_with_and_without_bom(prefix: bytes, codec: str) -> None:
    data = prefix + _two_cues("مرحبا بالعالم", "إلى اللقاء").encode(codec)
    doc = document_from_bytes(data, "ar", source="u.srt")
    assert (doc.charset, doc.cues[0].text) == (codec, "مرحبا بالعالم")
    assert doc.charset_reason == {b"": "valid UTF-8" if codec == "utf-8" else
                                  f"{codec} from its NUL-byte pattern of UTF-16/32 text"}.get(
        prefix, f"{codec} from its byte order mark")


def test_no_candidate_fits_names_every_candidate_tried() -> None:
    data = _two_cues("Привет, мир", "До свидания").encode("cp1251")
    with pytest.raises(SubtitleRejected) as caught:
        document_from_bytes(data, "ar", source="wrong.srt")
    message = str(caught.value)
    assert caught.value.code == "subtitle_charset_unknown"
    assert "tried cp1256:" in message and "iso8859_6:" in message and "wrong.srt" in message


def test_koi8_read_as_cp1251_loses_on_letter_case() -> None:
    decision = decide_charset(_two_cues("Привет, мир", "До свидания").encode("koi8_r"), "ru", source="k.srt")
    assert decision.charset == "koi8_r"
    assert "cp1251: " in decision.reason  # tried and explained

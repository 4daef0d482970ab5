"""Decode: sidecar bytes -> str, in whatever charset the authoring tool used, or a clear refusal.

Order of trust: a BOM; a UTF-16/32 NUL pattern; valid UTF-8; then the legacy code pages that the
*declared language* makes likely, each accepted only if the text is in that language's script and
charset-normalizer does not read the bytes clearly better another way. Mojibake is never returned.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.script import implausibility

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HANGUL = re.compile("[\uac00-\ud7a3]")
_HINT = "re-save the file as UTF-8, or declare its language correctly"

_LATIN = frozenset({"Latin"})
_CYRILLIC = frozenset({"Cyrillic"})
_ARABIC = frozenset({"Arabic"})
_HAN = frozenset({"Han"})
_WESTERN = ("af ca cy da de en es et eu fi fil fo fr ga gd gl id is it la lb ms mt nb nl nn no pt "
            "so sq sv sw tl xh zu")
_CODE_PAGES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    **dict.fromkeys(_WESTERN.split(), (("cp1252",), _LATIN)),
    **dict.fromkeys(["bs", "cs", "hr", "hu", "pl", "ro", "sk", "sl"], (("cp1250",), _LATIN)),
    **dict.fromkeys(["lt", "lv"], (("cp1257",), _LATIN)),
    **dict.fromkeys(["az", "tr"], (("cp1254",), _LATIN)),
    "vi": (("cp1258",), _LATIN),
    **dict.fromkeys(["be", "bg", "kk", "ky", "mk", "mn", "ru", "sr", "tg", "uk"], (("cp1251",), _CYRILLIC)),
    **dict.fromkeys(["ar", "fa", "ps", "ur", "ku"], (("cp1256",), _ARABIC)),
    **dict.fromkeys(["he", "yi"], (("cp1255",), frozenset({"Hebrew"}))),
    "el": (("cp1253",), frozenset({"Greek"})),
    "th": (("cp874",), frozenset({"Thai"})),
    "ko": (("cp949",), frozenset({"Hangul"})),
    "ja": (("cp932", "euc_jp"), frozenset({"Kana", "Han"})),
    "zh": (("gb18030",), _HAN),
}
_TRADITIONAL = (("cp950", "big5hkscs"), _HAN)


def code_pages(language: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Legacy codecs worth trying for a canonical BCP-47 tag, and the scripts its text must use."""
    lang, *rest = language.split("-")
    if lang == "zh" and ("Hant" in rest or any(part in {"TW", "HK", "MO"} for part in rest)):
        return _TRADITIONAL
    if lang == "sr" and "Latn" in rest:
        return ("cp1250",), _LATIN
    return _CODE_PAGES.get(lang, ((), frozenset()))


def unicode_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, bytes to skip) from a BOM, or from NUL bytes laid out like UTF-32/UTF-16 ASCII."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    sample = data[:4096]
    quads = len(sample) // 4
    if quads >= 2:
        zeros = [sample[offset:quads * 4:4].count(0) for offset in range(4)]
        # The top byte of every code point is zero, the next one almost always (BMP).
        if zeros[3] == quads and zeros[2] > 0.9 * quads and zeros[0] < 0.5 * quads:
            return "utf-32-le", 0
        if zeros[0] == quads and zeros[1] > 0.9 * quads and zeros[3] < 0.5 * quads:
            return "utf-32-be", 0
    pairs = len(sample) // 2
    if pairs >= 2:
        even, odd = sample[0:pairs * 2:2].count(0), sample[1:pairs * 2:2].count(0)
        if odd > 0.3 * pairs and even < 0.05 * pairs:
            return "utf-16-le", 0
        if even > 0.3 * pairs and odd < 0.05 * pairs:
            return "utf-16-be", 0
    return None


def decode(data: bytes, language: str, *, source: str) -> tuple[str, str]:
    """(text without BOM, codec name), or SubtitleRejected(code="subtitle_charset_unknown")."""
    found = unicode_encoding(data)
    if found is not None:
        codec, skip = found
        try:
            return data[skip:].decode(codec), codec
        except UnicodeDecodeError as exc:
            raise _unknown(source, language, f"it looks like {codec} but is not valid {codec}") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise _unknown(source, language, "it contains NUL bytes and is neither UTF-8 nor UTF-16/32")
    codec_names, scripts = code_pages(language)
    reasons: list[str] = []
    for codec in codec_names:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            reasons.append(f"{codec}: invalid byte 0x{data[exc.start]:02X} at offset {exc.start}")
            continue
        reason = implausibility(text, scripts) or rare_hangul(text, codec) or second_opinion(data, text)
        if reason is None:
            return text, codec
        reasons.append(f"{codec}: {reason}")
    if not codec_names:
        reasons.append(f"no legacy charset is known for language {language!r}")
    raise _unknown(source, language, "; ".join(reasons))


def rare_hangul(text: str, codec: str) -> str | None:
    """CP949 maps most double-byte pairs to Hangul outside EUC-KR's 2,350 everyday syllables; real
    Korean text hardly uses those, Shift-JIS or Big5 bytes read as CP949 use little else."""
    if codec != "cp949":
        return None
    syllables = Counter(_HANGUL.findall(text))
    rare = sum(count for char, count in syllables.items() if not _in_euc_kr(char))
    if rare > 0.1 * syllables.total():
        return f"{rare} of {syllables.total()} Hangul syllables are outside EUC-KR"
    return None


def _in_euc_kr(char: str) -> bool:
    """Python's euc_kr spells rare syllables as 8-byte jamo sequences; KS X 1001 ones take 2 bytes."""
    try:
        return len(char.encode("euc_kr")) == 2
    except UnicodeEncodeError:
        return False


def second_opinion(data: bytes, text: str) -> str | None:
    """A reason to refuse when charset-normalizer reads ``data`` as other, clearly less chaotic text."""
    best = from_bytes(data).best()
    if best is None or str(best) == text:
        return None
    ours = mess_ratio(text[:200_000], 1.0)
    if best.chaos + 0.05 < ours:
        return f"reads as mojibake (chaos {ours:.2f}; {best.encoding} gives {best.chaos:.2f})"
    return None


def _unknown(source: str, language: str, why: str) -> SubtitleRejected:
    return SubtitleRejected(
        source, f"cannot decode as {language!r} text: not UTF-8 ({why})", hint=_HINT,
        code="subtitle_charset_unknown",
    )

"""Decode: sidecar bytes -> str, in whatever charset the authoring tool used, or a clear refusal.

Order of trust: a BOM; a UTF-16/32 NUL pattern; valid UTF-8; then the legacy code pages that the
*declared language* makes likely. A candidate wins only if it decodes without an error AND the text is
in the declared language's script(s); among those that fit, the highest `confidence` wins (ties go to
the candidate listed first, the most common one). Confidence is measured per character and word, so it
works on a two-cue trailer file: statistical detectors (charset-normalizer's chaos score) need
kilobytes and, on a short Arabic CP1256 file, preferred ``mac_greek``. Mojibake is never returned:
when no candidate fits, the refusal names every candidate tried and why it did not fit.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from charset_normalizer.md import mess_ratio

from pipelines.errors import SubtitleRejected
from pipelines.subtitles.script import implausibility, script_of

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HANGUL = re.compile("[\uac00-\ud7a3]")
_WORD = re.compile(r"[^\W\d_]{2,}")
_HINT = "re-save the file as UTF-8, or declare its language correctly"

_LATIN = frozenset({"Latin"})
_CYRILLIC = frozenset({"Cyrillic"})
_ARABIC = frozenset({"Arabic"})
_HAN = frozenset({"Han"})
_WESTERN = ("af ca cy da de en es et eu fi fil fo fr ga gd gl id is it la lb ms mt nb nl nn no pt "
            "so sq sv sw tl xh zu")
# Per language: the legacy codecs its subtitle tools wrote, most common first, and the scripts of its text.
_CODE_PAGES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    **dict.fromkeys(_WESTERN.split(), (("cp1252",), _LATIN)),
    **dict.fromkeys(["bs", "cs", "hr", "hu", "pl", "ro", "sk", "sl"], (("cp1250",), _LATIN)),
    **dict.fromkeys(["lt", "lv"], (("cp1257",), _LATIN)),
    **dict.fromkeys(["az", "tr"], (("cp1254",), _LATIN)),
    "vi": (("cp1258",), _LATIN),
    **dict.fromkeys(["be", "bg", "kk", "ky", "mk", "mn", "ru", "sr", "tg"], (("cp1251", "koi8_r"), _CYRILLIC)),
    "uk": (("cp1251", "koi8_u"), _CYRILLIC),
    **dict.fromkeys(["ar", "fa", "ps", "ur", "ku"], (("cp1256", "iso8859_6"), _ARABIC)),
    **dict.fromkeys(["he", "yi"], (("cp1255", "iso8859_8"), frozenset({"Hebrew"}))),
    "el": (("cp1253", "iso8859_7"), frozenset({"Greek"})),
    "th": (("cp874",), frozenset({"Thai"})),
    "ko": (("cp949",), frozenset({"Hangul"})),
    "ja": (("cp932", "euc_jp"), frozenset({"Kana", "Han"})),
    "zh": (("gb18030",), _HAN),
}
_TRADITIONAL = (("cp950", "big5hkscs"), _HAN)
# Everyday repertoires: real short text stays inside them; bytes of another charset read through a CJK
# codec land mostly outside (CP949's extension Hangul, GB18030's four-byte area, Big5-HKSCS additions).
_EVERYDAY = {"cp949": "euc_kr", "gb18030": "gb2312", "cp950": "big5", "big5hkscs": "big5", "cp932": "euc_jp",
             "euc_jp": "euc_jp"}
MIN_CONFIDENCE = 0.9  # below this a candidate that decodes is still refused (a guess is not a decision)


@dataclass(frozen=True)
class CharsetDecision:
    """What the sidecar was decoded with and why: ``reason`` goes into report.json."""

    text: str  # without BOM
    charset: str  # Python codec name ("utf-8", "cp1256")
    reason: str


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
    decision = decide_charset(data, language, source=source)
    return decision.text, decision.charset


def decide_charset(data: bytes, language: str, *, source: str) -> CharsetDecision:
    """The charset decision for ``data`` declared as ``language`` (canonical BCP-47).

    Raises SubtitleRejected(code="subtitle_charset_unknown") naming every candidate tried and why it
    did not fit, when none does."""
    found = unicode_encoding(data)
    if found is not None:
        codec, skip = found
        how = "byte order mark" if skip else "NUL-byte pattern of UTF-16/32 text"
        try:
            return CharsetDecision(data[skip:].decode(codec), codec, f"{codec} from its {how}")
        except UnicodeDecodeError as exc:
            raise _unknown(source, language, f"it looks like {codec} but is not valid {codec}") from exc
    try:
        return CharsetDecision(data.decode("utf-8"), "utf-8", "valid UTF-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise _unknown(source, language, "it contains NUL bytes and is neither UTF-8 nor UTF-16/32")
    codec_names, scripts = code_pages(language)
    if not codec_names:
        raise _unknown(source, language, f"no legacy charset is known for language {language!r}")
    fits: list[tuple[float, int, str, str, str]] = []
    refused: list[str] = []
    for order, codec in enumerate(codec_names):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            refused.append(f"{codec}: invalid byte 0x{data[exc.start]:02X} at offset {exc.start}")
            continue
        why_not = implausibility(text, scripts) or rare_hangul(text, codec)
        if why_not is not None:
            refused.append(f"{codec}: {why_not}")
            continue
        score, measured = confidence(text, codec, scripts)
        if score < MIN_CONFIDENCE:
            refused.append(f"{codec}: confidence {score:.2f} < {MIN_CONFIDENCE} ({measured})")
            continue
        fits.append((-score, order, codec, text, measured))
    if not fits:
        raise _unknown(source, language, "tried " + "; ".join(refused))
    fits.sort()
    score, _, codec, text, measured = fits[0]
    others = [f"{c}: confidence {-s:.2f}" for s, _, c, _, _ in fits[1:]] + refused
    reason = (f"{codec}: decodes without errors and its text is in the {'/'.join(sorted(scripts))} script of "
              f"{language!r}; confidence {-score:.2f} ({measured})"
              + (f"; other candidates: {'; '.join(others)}" if others else ""))
    return CharsetDecision(text, codec, reason)


def confidence(text: str, codec: str, scripts: frozenset[str]) -> tuple[float, str]:
    """(0..1, what was measured): the share of non-ASCII letters that are in ``scripts``, times the
    share of those in the codec's everyday repertoire (CJK), times the share of words whose letter
    case is natural (bicameral scripts: KOI8-R read as CP1251 swaps case inside words), and for the
    double-byte codecs times one minus charset-normalizer's per-character mess ratio of this text alone
    (never compared with other charsets' readings, which may be in any script). The mess ratio is left
    out for 8-bit code pages: it penalises dense accents, so a short Polish line would fail it.

    Each factor is a per-character or per-word ratio, meaningful from a handful of words on."""
    letters = [c for c in text if not c.isascii() and unicodedata.category(c).startswith("L")]
    if not letters:
        return 1.0, "no non-ASCII letters"
    inside = [c for c in letters if script_of(c) in scripts]
    share = len(inside) / len(letters)
    parts = [f"{len(inside)}/{len(letters)} letters in script"]
    everyday = _EVERYDAY.get(codec)
    common = 1.0
    if everyday is not None and inside:
        ordinary = sum(1 for c in inside if _encodes_in(c, everyday))
        common = ordinary / len(inside)
        parts.append(f"{ordinary}/{len(inside)} in {everyday}")
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    natural = 1.0
    if words and any(c.isupper() or c.islower() for c in inside):
        good = sum(1 for w in words if w.islower() or w.isupper() or w.istitle() or not w.isalpha())
        natural = good / len(words)
        parts.append(f"{good}/{len(words)} words with natural case")
    mess = 0.0
    if everyday is not None:  # double-byte codecs: any byte pair is some Han/Hangul, so the script says little
        mess = mess_ratio(text[:200_000], 1.0)
        parts.append(f"mess {mess:.2f}")
    return share * common * natural * (1.0 - mess), ", ".join(parts)


def _encodes_in(char: str, codec: str) -> bool:
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2  # one- and three-byte forms are ASCII, half-width kana or JIS X 0212


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


def _unknown(source: str, language: str, why: str) -> SubtitleRejected:
    return SubtitleRejected(
        source, f"cannot decode as {language!r} text: not UTF-8 ({why})", hint=_HINT,
        code="subtitle_charset_unknown",
    )

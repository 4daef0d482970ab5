"""Script: which writing system decoded text is in, and whether that fits the declared language.

A legacy 8-bit or double-byte file decodes "successfully" under many wrong codecs; the result is
mojibake in the wrong script (or mixed scripts inside one word). Checking the script expected for
the declared language is what lets the decoder refuse instead of publishing garbage.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter

# (first, last, script) code point ranges; letters outside every range count as "Other".
_RANGES = sorted([
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"),
    (0x1E00, 0x1EFF, "Latin"), (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"), (0x0590, 0x05FF, "Hebrew"), (0xFB1D, 0xFB4F, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"), (0x0E00, 0x0E7F, "Thai"),
    (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"), (0xAC00, 0xD7AF, "Hangul"),
    (0x3040, 0x309F, "Kana"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"), (0x20000, 0x2FFFF, "Han"),
])
_STARTS = [first for first, _, _ in _RANGES]
_WORD = re.compile(r"[^\W\d_]{2,}")
_LETTER = re.compile(r"[^\W\d_]")
_ASCII = re.compile(r"[\x00-\x7f]+")
_INNER_CAPITAL = re.compile(r"(?<=[^\W\d_])[À-ÖØ-Þ]")
_USUAL_SIGNS = frozenset("°€£¥§©®™×÷½²³µ")  # seen in real Western subtitles (temperatures, prices)


def script_of(char: str) -> str:
    point = ord(char)
    index = bisect.bisect_right(_STARTS, point) - 1
    if index >= 0 and _RANGES[index][0] <= point <= _RANGES[index][1]:
        return _RANGES[index][2]
    return "Other"


def implausibility(text: str, scripts: frozenset[str]) -> str | None:
    """Why ``text`` does not look like a language written in ``scripts``; None when it does.

    Only non-ASCII characters are judged (markup and timestamps are ASCII in every format).
    Half-width katakana count as foreign: real Japanese subtitles hardly use them, but GB18030 or
    Big5 bytes read as CP932 turn into little else.
    """
    counts = Counter(_ASCII.sub("", text))
    if not counts:
        return None
    expected = foreign = latin = symbols = 0
    for char, count in counts.items():
        category = unicodedata.category(char)
        if category in {"Cc", "Co", "Cn", "Cs"}:
            return f"control or unassigned character U+{ord(char):04X}"
        if category[0] in {"S", "N"} and category != "Nd" and char not in _USUAL_SIGNS:
            symbols += count
        if not category.startswith("L"):
            continue
        script = script_of(char)
        if script in scripts:
            expected += count
        else:
            foreign += count
        latin += count if script == "Latin" else 0
    if expected == 0 or foreign > 0.1 * (expected + foreign):
        return f"{foreign} of {expected + foreign} letters are not in the expected script"
    if symbols > 0.2 * counts.total():  # box drawing, math, superscripts: bytes of another code page
        return f"{symbols} of {counts.total()} non-ASCII characters are symbols"
    if "Latin" in scripts:
        return _latin_implausibility(text, latin)
    return _mixed_word_implausibility(text)


def _latin_implausibility(text: str, accented: int) -> str | None:
    """Western mojibake is (nearly) all Latin-1 letters, or Latin-1 capitals inside words and symbols
    (``ÇÑ±¹¾î``: Korean read as CP1252); real text, even a dense Polish or Czech line, has plain letters
    among its accented ones, capitals only at word starts, and few symbols."""
    letters = len(_LETTER.findall(text))
    if accented > 0.6 * letters:
        return f"{accented} of {letters} letters are accented"
    foreign = [c for c in _ASCII.sub(" ", text) if not c.isspace()]
    odd = len(_INNER_CAPITAL.findall(text)) + sum(
        1 for c in foreign if unicodedata.category(c)[0] in {"S", "N"} and c not in _USUAL_SIGNS)
    if foreign and odd > 0.2 * len(foreign):
        return f"{odd} of {len(foreign)} non-ASCII characters are symbols or capitals inside words"
    return None


def _mixed_word_implausibility(text: str) -> str | None:
    """A word mixing ASCII letters with the expected non-Latin script is the signature of a
    Western file decoded with a Cyrillic, Arabic or Greek code page."""
    words = _WORD.findall(text)
    mixed = sum(1 for word in words if not word.isascii() and any(c.isascii() for c in word))
    if mixed > max(1, 0.05 * len(words)):
        return f"{mixed} words mix Latin and another script"
    return None

"""Language tags: one canonical BCP-47 form for manifests, folder names and charset choice.

Sidecars and ffprobe arrive with ISO 639-2 codes ("kor", "fre"), POSIX locales ("pt_br") or odd
casing; HLS ``LANGUAGE``, DASH ``lang`` and our object keys all need the same short BCP-47 tag.
Only the subset ``language[-Script][-REGION]`` is accepted, so every result is ``[A-Za-z0-9-]``
and safe as a path segment.
"""

from __future__ import annotations

import re

from pipelines.errors import SubtitleRejected

# ISO 639-1, English name, ISO 639-2/T (and /B where it differs).
_TABLE = """
af Afrikaans afr|am Amharic amh|ar Arabic ara|az Azerbaijani aze|be Belarusian bel|bg Bulgarian bul
bn Bengali ben|bo Tibetan bod tib|bs Bosnian bos|ca Catalan cat|cs Czech ces cze|cy Welsh cym wel
da Danish dan|de German deu ger|el Greek ell gre|en English eng|eo Esperanto epo|es Spanish spa
et Estonian est|eu Basque eus baq|fa Persian fas per|fi Finnish fin|fo Faroese fao|fr French fra fre
ga Irish gle|gd Scottish Gaelic gla|gl Galician glg|gu Gujarati guj|ha Hausa hau|he Hebrew heb
hi Hindi hin|hr Croatian hrv|hu Hungarian hun|hy Armenian hye arm|id Indonesian ind|ig Igbo ibo
is Icelandic isl ice|it Italian ita|ja Japanese jpn|jv Javanese jav|ka Georgian kat geo|kk Kazakh kaz
km Khmer khm|kn Kannada kan|ko Korean kor|ku Kurdish kur|ky Kyrgyz kir|la Latin lat|lb Luxembourgish ltz
lo Lao lao|lt Lithuanian lit|lv Latvian lav|mi Maori mri mao|mk Macedonian mkd mac|ml Malayalam mal
mn Mongolian mon|mr Marathi mar|ms Malay msa may|mt Maltese mlt|my Burmese mya bur|nb Norwegian Bokmål nob
ne Nepali nep|nl Dutch nld dut|nn Norwegian Nynorsk nno|no Norwegian nor|pa Punjabi pan|pl Polish pol
ps Pashto pus|pt Portuguese por|ro Romanian ron rum|ru Russian rus|si Sinhala sin|sk Slovak slk slo
sl Slovenian slv|so Somali som|sq Albanian sqi alb|sr Serbian srp|sv Swedish swe|sw Swahili swa
ta Tamil tam|te Telugu tel|tg Tajik tgk|th Thai tha|tl Tagalog tgl|tr Turkish tur|uk Ukrainian ukr
ur Urdu urd|uz Uzbek uzb|vi Vietnamese vie|xh Xhosa xho|yi Yiddish yid|yo Yoruba yor|zh Chinese zho chi
zu Zulu zul
"""
_NAMES: dict[str, str] = {}
_ALPHA3: dict[str, str] = {"iw": "he", "in": "id", "ji": "yi", "mo": "ro"}  # also deprecated 639-1
_TERMINOLOGY: dict[str, str] = {}  # ISO 639-1 -> ISO 639-2/T
for _entry in _TABLE.replace("\n", "|").split("|"):
    if _entry.strip():
        _code, *_words = _entry.split()
        _threes = [w for w in _words if len(w) == 3 and w.islower()]
        _NAMES[_code] = " ".join(w for w in _words if w not in _threes)
        _ALPHA3.update(dict.fromkeys(_threes, _code))
        _TERMINOLOGY[_code] = _threes[0]
_NAMES.update({"fil": "Filipino", "yue": "Cantonese", "und": "Undetermined", "mul": "Multiple languages",
               "zxx": "No linguistic content"})
_ALPHA3["fil"] = "fil"  # has no 639-1 code; listed so it is not mistaken for a typo

_SCRIPTS = {"Hans": "Simplified", "Hant": "Traditional", "Latn": "Latin", "Cyrl": "Cyrillic",
            "Arab": "Arabic"}
_REGIONS = {"BR": "Brazil", "PT": "Portugal", "US": "US", "GB": "UK", "419": "Latin America",
            "ES": "Spain", "MX": "Mexico", "CA": "Canada", "FR": "France", "TW": "Taiwan",
            "HK": "Hong Kong", "CN": "China", "AU": "Australia", "DE": "Germany", "AT": "Austria",
            "CH": "Switzerland", "BE": "Belgium"}

_TAG = re.compile(r"(?P<lang>[A-Za-z]{2,3})(?:[-_](?P<script>[A-Za-z]{4}))?"
                  r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?")


def normalize_language(tag: str, *, source: str = "<language>") -> str:
    """Canonical BCP-47 ("kor" -> "ko", "pt_br" -> "pt-BR", "ZH-hant" -> "zh-Hant"), or reject."""
    match = _TAG.fullmatch(tag.strip()) if isinstance(tag, str) else None
    if match is None:
        raise SubtitleRejected(
            source, f"language tag {tag!r} is not a BCP-47 tag of the form language[-Script][-REGION]",
            hint='use a tag such as "en", "ko", "pt-BR", "es-419" or "zh-Hant" (ISO 639-2 "kor" works too)',
            code="language_invalid",
        )
    lang = match["lang"].lower()
    lang = _ALPHA3.get(lang, lang)
    parts = [lang]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts)


def language_name(tag: str) -> str:
    """English label for players' menus ("Chinese (Traditional)"); the tag itself when unknown."""
    try:
        canonical = normalize_language(tag)
    except SubtitleRejected:
        return tag
    lang, *rest = canonical.split("-")
    name = _NAMES.get(lang)
    if name is None:
        return canonical
    details = [_SCRIPTS.get(part, part) if len(part) == 4 else _REGIONS.get(part, part) for part in rest]
    return f"{name} ({', '.join(details)})" if details else name


def iso639_2t(tag: str) -> str:
    """A BCP-47 tag's primary language as the ISO 639-2/T code an MP4 ``mdhd`` carries: "pt-BR" -> "por",
    "zh-Hant" -> "zho", "fil" -> "fil"; "und" for a language without one (ISO/IEC 14496-12 8.4.2)."""
    primary = tag.split("-", 1)[0].lower()
    if len(primary) == 3:
        return primary if primary.isalpha() and primary.isascii() else "und"
    return _TERMINOLOGY.get(primary, "und")


def parse_iso639_2(code: str | None) -> str | None:
    """ffprobe's stream ``language`` tag -> BCP-47, or None when absent, "und" or unusable.

    A garbled tag on an embedded track is metadata noise, not a reason to reject the master.
    """
    if code is None or not code.strip():
        return None
    try:
        tag = normalize_language(code)
    except SubtitleRejected:
        return None
    return None if tag == "und" else tag

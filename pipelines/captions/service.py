"""Caption channels and services: what a master's closed captions are called, in which language, and how they
are published. Pure.

CEA-608 has four caption channels: CC1 and CC2 in field 1 (data channels 1 and 2), CC3 and CC4 in field 2
(CEA-608-E §8.4). CEA-708 has caption services 1-63 (CEA-708-E §6.2). HLS names each in-band one by
INSTREAM-ID "CC1".."CC4" / "SERVICE1".."SERVICE63" (RFC 8216 §4.3.4.1); DASH by SCTE 214-1 Accessibility
descriptors on the video AdaptationSet (DASH-IF IOP 4.3 §6.4.3).

Publication (`CaptionOptions.mode`):

    webvtt    (default) each 608 channel / 708 service that decodes → a WebVTT subtitle rendition (SDH); rungs
              carry none
    in-band   the master's A/53 caption data (608 and 708) kept in the rungs' SEI, signalled in both manifests
    both      the two together (TVs and Apple devices read the SEI; browsers the WebVTT)

Languages: a declared ``CC3=es`` / ``SERVICE1=en`` wins; otherwise CC1 and SERVICE1 take the default audio's
language, CC3 and SERVICE2 the next audio language, anything else "und".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipelines.errors import ConfigError, SubtitleRejected
from pipelines.language import normalize_language

# channel → (field, data channel)
CHANNELS: dict[str, tuple[int, int]] = {"CC1": (1, 1), "CC2": (1, 2), "CC3": (2, 1), "CC4": (2, 2)}
MODES = ("webvtt", "in-band", "both")
_ID = re.compile(r"^(CC[1-4]|SERVICE([1-9]|[1-5][0-9]|6[0-3]))$")
ID_HINT = "name a 608 channel CC1..CC4 or a 708 service SERVICE1..SERVICE63, e.g. --caption-language CC3=es"


def service_name(number: int) -> str:
    """The HLS INSTREAM-ID of CEA-708 service `number` (RFC 8216 §4.3.4.1): "SERVICE1"."""
    return f"SERVICE{number}"


@dataclass(frozen=True)
class CaptionOptions:
    """How a master's closed captions are published (see the module docstring), and declared languages as
    (INSTREAM-ID, BCP-47) pairs, e.g. (("CC3", "es"), ("SERVICE1", "en")). Raises ConfigError naming the field."""

    mode: str = "webvtt"
    languages: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"caption mode {self.mode!r} is not one of {', '.join(MODES)}",
                              hint="use --captions webvtt, in-band or both")
        seen = set()
        for ident, language in self.languages:
            if not _ID.match(ident):
                raise ConfigError(f"caption language for {ident!r}: not a caption channel or service", hint=ID_HINT)
            if ident in seen:
                raise ConfigError(f"caption language for {ident} is given twice", hint="give each channel once")
            seen.add(ident)
            try:
                normalize_language(language, source=f"caption language {ident}")
            except SubtitleRejected as exc:
                raise ConfigError(exc.message, hint=exc.hint) from exc

    @property
    def webvtt(self) -> bool:
        return self.mode in ("webvtt", "both")

    @property
    def in_band(self) -> bool:
        return self.mode in ("in-band", "both")


def parse_caption_language(text: str) -> tuple[str, str]:
    """``"CC3=es"`` → ("CC3", "es") (the language canonical BCP-47). Raises ValueError saying what is wrong."""
    ident, sep, language = text.partition("=")
    ident = ident.strip().upper()
    if not sep or not _ID.match(ident):
        raise ValueError(f"{text!r} is not CHANNEL=LANG; {ID_HINT}")
    try:
        return ident, normalize_language(language, source=f"caption language {ident}")
    except SubtitleRejected as exc:
        raise ValueError(f"{text!r}: {exc.what}") from exc


def caption_language(ident: str, declared: Mapping[str, str], audio_languages: Sequence[str]) -> str:
    """The language of channel/service `ident`: declared, else by position among the audio languages
    (default audio first): CC1/SERVICE1 the first, CC3/SERVICE2 the second; "und" when there is none."""
    if ident in declared:
        return normalize_language(declared[ident])
    position = {"CC1": 0, "SERVICE1": 0, "CC3": 1, "SERVICE2": 1}.get(ident)
    if position is not None and position < len(audio_languages):
        return audio_languages[position]
    return "und"


__all__ = ["CHANNELS", "MODES", "CaptionOptions", "caption_language", "parse_caption_language", "service_name"]

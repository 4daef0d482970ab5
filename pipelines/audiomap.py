"""Audio map (pure): which of a master's channels make which audio rendition, with its language, role and name.

    --audio-map CHANNELS=LANG[:ROLE[:NAME]]      e.g. 1+2=en:main  3+4=en:description  5=es:main:Español

CHANNELS are 1-based over the master's audio channels in stream order (a stereo stream then two mono tracks
are channels 1, 2 | 3 | 4); one channel makes a rendition with it on both sides, two make left + right. ROLE is
one of ROLES (default ``main``): ``description`` is audio description for the blind (HLS CHARACTERISTICS
``public.accessibility.describes-video``; DASH Role ``alternate`` with Accessibility
``urn:tva:metadata:cs:AudioPurposeCS:2007`` value 1, DASH-IF IOP), ``commentary`` a commentary track (DASH Role
``commentary``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.errors import ConfigError
from pipelines.language import normalize_language

ROLES = ("main", "alternate", "description", "commentary")
ROLE_ALIASES = {"ad": "description"}
_SPEC = re.compile(r"^\s*(\d+(?:\s*\+\s*\d+)*)\s*=\s*([^:]+?)\s*(?::\s*([^:]*?)\s*)?(?::\s*(.+?)\s*)?$")
_HINT = "write CHANNELS=LANG[:ROLE[:NAME]], e.g. 1+2=en:main or 3+4=en:description (channels from 1, in stream order)"


@dataclass(frozen=True)
class AudioMapEntry:
    channels: tuple[int, ...]  # 1-based over the master's audio channels in stream order; 1 or 2 of them
    language: str  # BCP-47
    role: str = "main"  # one of ROLES
    name: str = ""  # the rendition's NAME; "" → the language's name (and the role's)

    def __str__(self) -> str:
        text = f"{'+'.join(map(str, self.channels))}={self.language}:{self.role}"
        return f"{text}:{self.name}" if self.name else text


def parse_audio_map(text: str) -> AudioMapEntry:
    """One ``--audio-map`` value → an entry; ConfigError naming the value and what is wrong."""
    match = _SPEC.match(text)
    if match is None:
        raise ConfigError(f"--audio-map {text!r} is not CHANNELS=LANG[:ROLE[:NAME]]", hint=_HINT)
    channels = tuple(int(c) for c in re.split(r"\s*\+\s*", match.group(1)))
    if not 1 <= len(channels) <= 2 or min(channels) < 1 or len(set(channels)) != len(channels):
        raise ConfigError(f"--audio-map {text!r}: a rendition takes one channel (mono) or two different ones "
                          "(left+right), numbered from 1", hint=_HINT)
    role = (match.group(3) or "main").lower()
    role = ROLE_ALIASES.get(role, role)
    if role not in ROLES:
        raise ConfigError(f"--audio-map {text!r}: unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    language = normalize_language(match.group(2), source=f"--audio-map {text!r}")
    return AudioMapEntry(channels, language, role, (match.group(4) or "").strip()[:64])


def channel_sources(entry: AudioMapEntry, layout: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """(stream index, channel within the stream) for each of the entry's channels, given the master's audio
    streams as (stream index, channel count) in order; ConfigError if the master lacks a channel."""
    numbered = [(index, channel) for index, count in layout for channel in range(count)]
    missing = [c for c in entry.channels if c > len(numbered)]
    if missing:
        streams = ", ".join(f"stream {index}: {count} ch" for index, count in layout) or "no audio"
        raise ConfigError(f"--audio-map {entry}: the master has {len(numbered)} audio channel(s) ({streams}); "
                          f"channel {missing[0]} does not exist",
                          hint=f"number channels from 1 to {len(numbered)} across the audio streams in order")
    return tuple(numbered[c - 1] for c in entry.channels)

"""PlanOptions: what a user chooses about an encode (segment and GOP length, encoder profile, audio languages and
mapping, loudness target, codecs, 5.1, captions), validated; and the encoder profiles `PROFILES` (pure).

A leaf of `pipelines.plan`, which turns these options and a probed source into an EncodePlan: a producer that only
validates options (`vodfleet submit`, the job spec) loads this, not the planner.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.audiomap import AudioMapEntry
from pipelines.captions.service import CaptionOptions
from pipelines.codecs import DEFAULT_CODECS, parse_codecs
from pipelines.errors import ConfigError
from pipelines.loudness import DEFAULT_PRESET, target_for


@dataclass(frozen=True)
class EncoderProfile:
    name: str
    preset: str  # x264 preset
    audio_bitrate: int = 128_000
    x265_preset: str = "veryfast"  # libx265 preset of HEVC rungs
    svtav1_preset: int = 10  # libsvtav1 preset of AV1 rungs (0 slowest .. 13 fastest; SVT-AV1 1.4)


PROFILES = {
    "fast": EncoderProfile("fast", preset="veryfast"),  # demos, tests, previews
    "quality": EncoderProfile("quality", preset="slow", x265_preset="slow", svtav1_preset=6),  # production
    # superfast, not ultrafast: ultrafast drops CABAC and B-frames, so x264 can only make Constrained Baseline
    "draft": EncoderProfile("draft", preset="superfast", audio_bitrate=96_000, x265_preset="ultrafast",
                            svtav1_preset=12),  # CI and quick looks
}


@dataclass(frozen=True)
class PlanOptions:
    segment_seconds: int = 6
    gop_seconds: int = 2
    profile: str = "fast"
    # Language per audio stream, in source order; overrides the container's tags (BCP-47 or ISO 639-2).
    audio_languages: tuple[str, ...] = ()
    # Which master channels make which rendition (pipelines.audiomap); empty: one rendition per audio stream.
    audio_map: tuple[AudioMapEntry, ...] = ()
    loudness: str = DEFAULT_PRESET  # pipelines.loudness.PRESETS
    # Video codecs of the ladder (pipelines.codecs.CODECS): H.264 always; HEVC and AV1 rungs opt-in
    codecs: tuple[str, ...] = DEFAULT_CODECS
    # Also a 5.1 rendition of every 5.1/7.1 stream (HLS: its own audio group; DASH: its own AdaptationSet)
    surround: bool = False
    # How the master's closed captions are published: WebVTT, in-band (A/53 SEI kept in the rungs) or both, and
    # their languages per channel/service (pipelines.captions.service).
    captions: CaptionOptions = CaptionOptions()

    def __post_init__(self) -> None:
        target_for(self.loudness)  # ConfigError when unknown
        if parse_codecs(self.codecs, source="codecs") != self.codecs:
            raise ConfigError(f"codecs={','.join(self.codecs)} is not in canonical order",
                              hint="build it with pipelines.codecs.parse_codecs")
        if self.gop_seconds < 1 or self.gop_seconds > 10:
            raise ConfigError(f"gop_seconds={self.gop_seconds} is out of range", hint="use 1 to 10 seconds")
        if self.segment_seconds < self.gop_seconds or self.segment_seconds % self.gop_seconds:
            raise ConfigError(
                f"segment_seconds={self.segment_seconds} is not a multiple of the {self.gop_seconds} s GOP",
                hint=f"use a multiple of {self.gop_seconds} (e.g. 2, 4, 6)")
        if self.segment_seconds > 30:
            raise ConfigError(f"segment_seconds={self.segment_seconds} is too long", hint="use at most 30")
        if self.profile not in PROFILES:
            raise ConfigError(f"unknown profile {self.profile!r}", hint=f"choose one of {', '.join(PROFILES)}")

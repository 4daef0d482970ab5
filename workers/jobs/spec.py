"""JobSpec: what a content team asks the fleet to make, frozen and versioned; and the job id it gets.

A job id is deterministic: the identity of every input (size + ETag/sha256 (+ version)), the spec and
the encoder fingerprint, hashed. Submitting the same thing twice finds the same id (a no-op);
``revision`` > 0 (``vodfleet submit --force``) makes a new version of it. Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from pipelines.audiomap import AudioMapEntry, parse_audio_map
from pipelines.captions.service import MODES as CAPTION_MODES
from pipelines.captions.service import CaptionOptions, parse_caption_language
from pipelines.codecs import DEFAULT_CODECS, parse_codecs
from pipelines.errors import ConfigError, SubtitleRejected
from pipelines.ladder import PER_TITLE, builtin_ladders
from pipelines.language import normalize_language
from pipelines.loudness import DEFAULT_PRESET, PRESETS
from pipelines.options import PROFILES
from pipelines.storyboard_options import StoryboardOptions
from workers.errors import KeyInvalid
from workers.keys import validate_key

SPEC_VERSION = 1


def validate_uri(value: str) -> str:
    """A source/sidecar reference: ``s3://bucket/key`` or a key in the fleet's own storage."""
    if value.startswith("s3://"):
        bucket, _, key = value.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise ValueError(f"{value!r}: expected s3://BUCKET/KEY")
        _key(key)
        return value
    if "://" in value:
        raise ValueError(f"{value!r}: allowed: s3://BUCKET/KEY or a key in the fleet storage "
                         "(`vodfleet submit` uploads local files first)")
    return _key(value)


WEBHOOK_MAX_LENGTH = 2048


def validate_webhook_url(value: str) -> str:
    """An absolute http(s) URL with a host, no credentials, no fragment, no whitespace (pure)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook {value!r}: expected an absolute http:// or https:// URL with a host")
    if len(value) > WEBHOOK_MAX_LENGTH or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"webhook {value[:80]!r}: too long, or contains whitespace or control characters")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError(f"webhook {value!r}: no user:password@ and no #fragment (sign with "
                         "VODFLEET_WEBHOOK_SECRET instead)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"webhook {value!r}: {exc}") from exc
    return value


def _key(value: str) -> str:
    try:
        return validate_key(value)
    except KeyInvalid as exc:
        raise ValueError(str(exc)) from exc


class SubtitleRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    language: str
    uri: str
    forced: bool = False  # a forced-narrative track (pipelines.subtitles.flags)
    sdh: bool = False  # for the deaf and hard of hearing

    @model_serializer(mode="wrap")
    def _without_default_flags(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Flags left at False are not written, so specs from before the flags keep their job ids."""
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key not in {"forced", "sdh"} or value}

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        try:
            return normalize_language(value)
        except SubtitleRejected as exc:  # no "<language>: " path prefix: the field's name says where
            raise ValueError(f"{exc.what} ({exc.hint})") from exc

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return validate_uri(value)


class ThumbnailSpec(BaseModel):
    """Storyboard options of a job (`pipelines.storyboard_options.StoryboardOptions`, validated by it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interval: float = StoryboardOptions.interval  # seconds between tiles
    width: int = StoryboardOptions.tile_width  # tile width in pixels
    columns: int = StoryboardOptions.columns
    rows: int = StoryboardOptions.rows
    enabled: bool = True  # False: no storyboard and no poster

    @model_validator(mode="after")
    def _valid(self) -> ThumbnailSpec:
        try:
            self.options()
        except ConfigError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from exc
        return self

    def options(self) -> StoryboardOptions:
        return StoryboardOptions(interval=self.interval, tile_width=self.width, columns=self.columns, rows=self.rows,
                                 enabled=self.enabled)


class JobSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    spec_version: Literal[1] = 1
    source: str
    subtitles: tuple[SubtitleRef, ...] = ()
    audio_languages: tuple[str, ...] = ()
    # --audio-map entries ("1+2=en:main", pipelines.audiomap), normalised; in the job id only when given
    audio_map: tuple[str, ...] = ()
    ladder: str = "default"
    profile: str = "fast"
    segment_seconds: int = Field(default=6, ge=2, le=30, multiple_of=2)
    measure_quality: bool = True
    output_prefix: str
    priority: int = Field(default=5, ge=0, le=9)
    webhook: str | None = None  # where state events are POSTed (`workers.webhooks.deliverer`); not part of the job id
    # Split-and-stitch: "auto" (chunked above the fleet's VODFLEET_CHUNK_THRESHOLD), or N chunks (1: never).
    # How the job is run, not what it makes (same segments, same manifests): not part of the job id.
    chunks: Literal["auto"] | Annotated[int, Field(ge=1, le=1000)] = "auto"
    # DASH text as one whole-title .vtt sidecar per track instead of WebVTT-in-ISO-BMFF segments (opt-in, for
    # DASH clients that read only sidecar WebVTT; ffmpeg-based clients then refuse the MPD without options).
    dash_vtt_sidecar: bool = False
    # Loudness preset (pipelines.loudness.PRESETS). It changes what is made, so it is part of the job id, but
    # only when it is not the default: ids of specs written before it existed stay the same.
    loudness: str = DEFAULT_PRESET
    # Video codecs of the ladder (pipelines.codecs): H.264 always, HEVC/AV1 rungs opt-in; in the id only when not h264
    codecs: tuple[str, ...] = DEFAULT_CODECS
    # Also a 5.1 rendition of every 5.1/7.1 stream (pipelines.options.PlanOptions.surround); in the job id when set
    surround: bool = False
    # Storyboard sprite sheets and poster; in the job id only when not the default (same reason).
    thumbnails: ThumbnailSpec = ThumbnailSpec()
    # The master's closed captions: webvtt | in-band | both (pipelines.captions.service), and "CC3=es" entries
    # naming a channel's or service's language; in the job id only when not the default.
    captions: str = "webvtt"
    caption_languages: tuple[str, ...] = ()
    # ladder per-title: the top rung's VMAF (pipelines.pertitle.rungs; None: DEFAULT_TARGET_VMAF, 94); refused with
    # any other ladder; in the job id only when given
    target_vmaf: float | None = Field(default=None, ge=50, le=99)

    @field_validator("target_vmaf")
    @classmethod
    def _target_vmaf(cls, value: float | None, info: ValidationInfo) -> float | None:
        ladder = info.data.get("ladder", "default")
        if value is not None and ladder != PER_TITLE:
            raise ValueError(f"target VMAF {value:g} is for ladder {PER_TITLE!r} only, this job's is {ladder!r}; "
                             f"ask for ladder {PER_TITLE!r} or drop the target")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        return validate_uri(value)

    @field_validator("output_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return _key(value.strip("/"))

    @field_validator("audio_languages")
    @classmethod
    def _audio(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(normalize_language(v) for v in value)
        except SubtitleRejected as exc:
            raise ValueError(f"{exc.what} ({exc.hint})") from exc

    @field_validator("audio_map")
    @classmethod
    def _audio_map(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(str(parse_audio_map(v)) for v in value)
        except ConfigError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from exc

    def audio_map_entries(self) -> tuple[AudioMapEntry, ...]:
        return tuple(parse_audio_map(v) for v in self.audio_map)

    @field_validator("captions")
    @classmethod
    def _captions(cls, value: str) -> str:
        return _one_of(value, CAPTION_MODES, "caption mode")

    @field_validator("caption_languages")
    @classmethod
    def _caption_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        pairs = [parse_caption_language(v) for v in value]  # ValueError names the entry
        try:
            CaptionOptions(languages=tuple(pairs))
        except ConfigError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from exc
        return tuple(f"{ident}={language}" for ident, language in pairs)

    def caption_options(self) -> CaptionOptions:
        return CaptionOptions(self.captions, tuple(parse_caption_language(v) for v in self.caption_languages))

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return None if value is None else validate_webhook_url(value)

    @field_validator("ladder")
    @classmethod
    def _ladder(cls, value: str) -> str:
        # built-in names only: a TOML path on the submitter's disk would not exist on a worker
        return _one_of(value, builtin_ladders(), "ladder")

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str) -> str:
        return _one_of(value, sorted(PROFILES), "profile")

    @field_validator("loudness")
    @classmethod
    def _loudness(cls, value: str) -> str:
        return _one_of(value, PRESETS, "loudness preset")

    @field_validator("codecs")
    @classmethod
    def _codecs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return parse_codecs(value, source="codecs")
        except ConfigError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from exc

    def canonical(self) -> str:
        """Stable JSON (sorted keys, no whitespace): what the job id hashes.

        Priority, the webhook and the chunking are excluded: they change how the job is run and announced,
        not what it makes, and ids of specs written before they existed stay the same; so are an empty audio map and
        the default loudness preset. ``dash_vtt_sidecar`` changes what is made, so it counts, but only when set (the
        same reason).
        """
        exclude = {"priority", "webhook", "chunks"} | {name for name, default in _IN_ID_UNLESS_DEFAULT.items()
                                                        if getattr(self, name) == default}
        return json.dumps(self.model_dump(mode="json", exclude=exclude), sort_keys=True, separators=(",", ":"))


# Fields added after job ids existed: they count towards the id only when not at their default, so the ids of
# specs written before them stay the same.
_IN_ID_UNLESS_DEFAULT: dict[str, object] = {"audio_map": (), "loudness": DEFAULT_PRESET, "dash_vtt_sidecar": False,
                                             "codecs": DEFAULT_CODECS, "surround": False,
                                             "thumbnails": ThumbnailSpec(), "captions": "webvtt",
                                             "caption_languages": (), "target_vmaf": None}


def _one_of(value: str, allowed: Iterable[str], what: str) -> str:
    names = list(allowed)
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(names)}")
    return value


@dataclass(frozen=True)
class InputIdentity:
    """What makes an input *this* content: the storage's view of it, not its name."""

    uri: str
    size: int
    etag: str
    version: str | None = None

    @field_validator("loudness")
    @classmethod
    def _loudness(cls, value: str) -> str:
        if value not in PRESETS:
            raise ValueError(f"unknown loudness preset {value!r}; allowed: {', '.join(PRESETS)}")
        return value

    def canonical(self) -> str:
        return f"{self.uri}|{self.size}|{self.etag}|{self.version or ''}"


def job_id(spec: JobSpec, inputs: tuple[InputIdentity, ...], encoder_fingerprint: str, *, revision: int = 0) -> str:
    """``job-`` + 24 hex of sha256 over (spec, inputs, encoder, revision) (pure, stable across hosts)."""
    text = "\n".join([f"spec={spec.canonical()}", *(f"input={i.canonical()}" for i in inputs),
                      f"encoder={encoder_fingerprint}", f"revision={revision}"])
    return "job-" + hashlib.sha256(text.encode()).hexdigest()[:24]

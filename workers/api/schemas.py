"""Request and response bodies of the HTTP API; the OpenAPI document (docs/openapi.json) is generated from them.

Times are Unix seconds (float); sizes are bytes; percentages 0-100.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipelines.captions.service import MODES as CAPTION_MODES
from pipelines.codecs import DEFAULT_CODECS
from pipelines.loudness import DEFAULT_PRESET, PRESETS
from workers.jobs.spec import ThumbnailSpec


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Closed):
    code: str = Field(description="stable code (docs/errors.md)")
    message: str
    hint: str = Field(description="what to do")
    retryable: bool
    field: str | None = Field(default=None, description="the refused request field, e.g. body.subtitles.0.language")


class ErrorBody(Closed):
    error: ErrorDetail


class SubtitleIn(Closed):
    language: str = Field(description="BCP-47 tag: en, pt-BR, zh-Hant", examples=["ko"])
    source: str = Field(description="s3://bucket/key, a key in the fleet storage, or upload:<upload id>")
    forced: bool = False
    sdh: bool = False


class JobRequest(Closed):
    source: str = Field(description="the master: s3://bucket/key, a key in the fleet storage, or "
                                    "upload:<upload id> of a completed direct upload",
                        examples=["upload:up_0123456789abcdef"])
    subtitles: list[SubtitleIn] = Field(default_factory=list)
    audio_languages: list[str] = Field(default_factory=list, description="BCP-47 per audio stream, in order")
    ladder: str = "default"
    target_vmaf: float | None = Field(default=None, description="ladder per-title only: the top rung's VMAF, "
                                                                "50-99 (default 94)")
    profile: str = "fast"
    priority: Annotated[int, Field(ge=0, le=9)] = 5
    chunks: Literal["auto"] | Annotated[int, Field(ge=1, le=1000)] = "auto"
    output_prefix: str | None = Field(default=None, description="where the title is published; default "
                                                                "<the token's first prefix>/<source name>")
    webhook: str | None = Field(default=None, description="http(s) URL that receives published/failed/"
                                                          "cancelled events")
    loudness: str = Field(default=DEFAULT_PRESET, description=f"loudness preset: {', '.join(PRESETS)}")
    codecs: tuple[str, ...] = Field(default=DEFAULT_CODECS, description="video codecs of the ladder "
                                    "(`vodfleet submit --codecs`): h264 always, hevc/av1 rungs opt-in",
                                    examples=[["h264", "hevc"]])
    surround: bool = Field(default=False, description="also a 5.1 rendition of every 5.1/7.1 audio stream "
                                                      "(`--surround`)")
    audio_map: tuple[str, ...] = Field(default=(), description="`--audio-map` entries: which input streams "
                                       "make which audio rendition", examples=[["1+2=en:main"]])
    captions: str = Field(default="webvtt", description=f"the master's closed captions: "
                                                        f"{' | '.join(CAPTION_MODES)} (`--captions`)")
    caption_languages: tuple[str, ...] = Field(default=(), description="a caption channel's or service's "
                                               "language (`--caption-language`)", examples=[["CC3=es"]])
    thumbnails: ThumbnailSpec = Field(default=ThumbnailSpec(), description="storyboard sprite sheets and "
                                      "poster (`--thumbnail-*`); enabled false: none")
    dash_vtt_sidecar: bool = Field(default=False, description="DASH text as one whole-title .vtt sidecar per "
                                                              "track instead of WebVTT-in-ISO-BMFF segments")
    segment_seconds: int = Field(default=6, description="a multiple of the 2 s GOP, at most 30")
    measure_quality: bool = Field(default=True, description="PSNR/SSIM per rung in report.json")
    force: bool = Field(default=False, description="make a new version even if the same job exists")


class ChunkOut(Closed):
    name: str
    start: float
    end: float
    state: str
    attempts: int
    seconds: float | None
    owner: str | None


class ChunksOut(Closed):
    done: int
    total: int
    parts: list[ChunkOut]


class TransitionOut(Closed):
    state: str
    at: float
    attempt: int
    detail: str


class FailureOut(Closed):
    code: str
    message: str
    hint: str = Field(description="what to do")
    retryable: bool
    exit_code: int


class PublishedOut(Closed):
    location: str = Field(description="where the version lives: s3://bucket/prefix/v0001 or file://...")
    title: str = Field(description="GET /titles/{title} for its versions and playback URLs")


class JobOut(Closed):
    job_id: str
    state: str = Field(description="queued fetching probing encoding packaging qc publishing published failed "
                                   "cancelled")
    created: bool | None = Field(default=None, description="POST /jobs: false when the job already existed")
    percent: float | None
    eta_seconds: float | None
    source: str
    output_prefix: str
    priority: int
    attempt: int
    submitted_at: float
    updated_at: float
    cancel_requested: bool
    chunks: ChunksOut | None
    history: list[TransitionOut]
    error: FailureOut | None = Field(description="the stored failure (on a failed job; on a running one the "
                                                 "last retryable error)")
    published: PublishedOut | None


class JobPage(Closed):
    jobs: list[JobOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null at the end")


class UploadRequest(Closed):
    filename: str = Field(examples=["episode01.mov"])
    size: Annotated[int, Field(ge=1)] = Field(description="bytes")
    content_type: str = "application/octet-stream"


class PartUrl(Closed):
    part_number: int
    url: str = Field(description="presigned PUT URL of this part (S3 UploadPart)")
    offset: int
    size: int
    headers: dict[str, str] = Field(default_factory=dict, description="headers the PUT must send as given: "
                                    "x-amz-checksum-sha256 when the URL is signed with the part's checksum "
                                    "(POST /uploads/{id}/parts); S3 refuses a body that does not match it")


class PartChecksum(Closed):
    part_number: int = Field(ge=1, le=10_000)
    sha256: str = Field(description="base64 of the SHA-256 of the part's bytes (44 characters)",
                        examples=["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])


class PartsRequest(Closed):
    parts: list[PartChecksum] = Field(min_length=1, max_length=1000)


class SignedParts(Closed):
    parts: list[PartUrl] = Field(description="one URL per part asked for, signed with its checksum")


class UploadedPart(Closed):
    part_number: int
    etag: str
    size: int


class UploadOut(Closed):
    upload_id: str
    source: str = Field(description="what POST /jobs takes once the upload is complete: upload:<upload_id>")
    filename: str
    size: int
    part_size: int
    state: Literal["uploading", "complete"]
    parts: list[PartUrl] = Field(description="the parts still to upload, each with its presigned URL")
    uploaded: list[UploadedPart] = Field(description="parts the storage already holds (S3 ListParts)")
    expires_in: int = Field(description="seconds the URLs stay valid; GET /uploads/{id} gives fresh ones")


class CompleteRequest(Closed):
    parts: list[UploadedPart] | None = Field(default=None, description="the ETags the uploader received; "
                                                                        "checked against the storage's")


class SubtitleCheck(Closed):
    language: str
    format: str
    charset: str
    charset_reason: str
    cues: int


class VersionOut(Closed):
    version: str
    live: bool
    job_id: str | None
    qc_passed: bool | None
    renditions: list[str]
    duration: float | None
    hls: str | None = Field(description="presigned URL of master.m3u8 (only the manifest: its relative URIs "
                                        "need the play URL below or a public bucket)")
    dash: str | None
    report: str | None
    play: str | None = Field(description="a player page for this version (the preview page with its QC panel) "
                                         "through a short-lived capability URL")


class TitleOut(Closed):
    title: str
    live: str | None
    versions: list[VersionOut]


class TokenOut(Closed):
    token_id: str
    prefixes: list[str]
    scope: str
    label: str

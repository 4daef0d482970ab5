"""Settings of the HTTP API (`vodfleet api`): typed, read from ``VODFLEET_API_*`` variables. No I/O here.

| variable                         | default                                                      |
|----------------------------------|--------------------------------------------------------------|
| VODFLEET_API_CORS_ORIGINS        | none: no cross-origin browser access (comma-separated origins) |
| VODFLEET_API_SOURCE_BUCKETS      | none: s3:// masters only from the fleet's storage (comma-separated buckets) |
| VODFLEET_API_SUBMIT_RATE         | 30 job submissions per minute per token (token bucket)      |
| VODFLEET_API_SUBMIT_BURST        | 10 submissions at once per token                             |
| VODFLEET_API_PRESIGN_SECONDS     | 3600: lifetime of presigned upload and playback URLs        |
| VODFLEET_API_PART_SIZE           | 8 MiB: multipart upload part size (S3: 5 MiB..5 GiB)         |
| VODFLEET_API_MAX_UPLOAD_BYTES    | 200 GiB: the largest master an upload may announce           |
| VODFLEET_API_UPLOAD_TTL         | 86400 s: an upload not completed this long after its start is aborted |
| VODFLEET_API_EVENTS_INTERVAL     | 0.5 s between job-store polls of an /events stream           |
| VODFLEET_API_TOKEN_CACHE_SECONDS | 5 s: a looked-up token is trusted this long (revocation delay) |
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ConfigDict, Field, field_validator

from workers.settings import EnvironmentModel

MiB = 1024 * 1024
GiB = 1024 * MiB
S3_MIN_PART = 5 * MiB
S3_MAX_PART = 5 * GiB
S3_MAX_PARTS = 10_000


class ApiSettings(EnvironmentModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    env_prefix: ClassVar[str] = "VODFLEET_API_"

    cors_origins: str = ""
    source_buckets: str = ""
    submit_rate: float = Field(default=30.0, gt=0, le=100_000)  # per minute
    submit_burst: int = Field(default=10, ge=1, le=10_000)
    presign_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    part_size: int = Field(default=8 * MiB, ge=S3_MIN_PART, le=S3_MAX_PART)
    max_upload_bytes: int = Field(default=200 * GiB, ge=1, le=S3_MAX_PARTS * S3_MAX_PART)
    upload_ttl: float = Field(default=86400.0, ge=1, le=30 * 86400)
    events_interval: float = Field(default=0.5, ge=0.05, le=60)
    token_cache_seconds: float = Field(default=5.0, ge=0, le=300)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in filter(None, (o.strip() for o in value.split(","))):
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"cors_origins: {origin!r} is not an origin (http(s)://host[:port] or *)")
        return value

    def buckets(self) -> frozenset[str]:
        return frozenset(b.strip() for b in self.source_buckets.split(",") if b.strip())

    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

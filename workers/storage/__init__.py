"""Object storage for masters and published outputs: one Protocol, real backends (local folder, S3).

    open_storage("s3://bucket/prefix", endpoint_url=..., ...)  → S3Storage
    open_storage("/abs/folder") or open_storage("file:///abs/folder") → LocalStorage
    storage_for(settings[, "s3://other-bucket"])  → the fleet storage (or another S3 location) with the
                                                    settings' S3 endpoint, credentials and retries
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack
from urllib.parse import unquote, urlsplit

from workers.errors import KeyInvalid
from workers.keys import parse_s3_uri
from workers.storage.base import ObjectInfo, Storage
from workers.storage.local import LocalStorage

if TYPE_CHECKING:
    from workers.settings import Settings
    from workers.storage.s3 import S3Options, S3Storage

__all__ = ["LocalStorage", "ObjectInfo", "S3Options", "S3Storage", "Storage", "open_storage", "storage_for"]


def __getattr__(name: str) -> Any:
    """``S3Storage`` and ``S3Options`` load boto3 on first use: a fleet on local storage (and `vodfleet submit`
    to it) never pays for importing it."""
    if name in ("S3Storage", "S3Options"):
        from workers.storage import s3  # noqa: PLC0415 - boto3 loads with its backend

        return getattr(s3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_storage(uri: str, **s3_options: Unpack[S3Options]) -> Storage:
    """The storage a URI names: ``s3://bucket[/prefix]``, ``file:///abs/folder`` or a plain local path.

    `s3_options` (endpoint, credentials, retries, multipart sizes) apply to s3:// URIs only.
    """
    if uri.startswith("s3://"):
        from workers.storage.s3 import S3Storage  # noqa: PLC0415 - boto3 loads with its backend

        bucket, prefix = parse_s3_uri(uri)
        return S3Storage(bucket, prefix, **s3_options)
    if s3_options:
        raise TypeError(f"S3 options {sorted(s3_options)} given for non-S3 storage {uri!r}")
    if uri.startswith("file://"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise KeyInvalid(f"file URI {uri!r} names a host, query or fragment",
                             hint="write file:///absolute/folder")
        return LocalStorage(Path(unquote(parts.path)))
    if "://" in uri:
        raise KeyInvalid(f"storage URI {uri!r} has an unsupported scheme",
                         hint="use s3://bucket/prefix, file:///folder or a local path")
    if not uri:
        raise KeyInvalid("storage URI is empty", hint="use s3://bucket/prefix, file:///folder or a local path")
    return LocalStorage(Path(uri))


def s3_options(settings: Settings) -> S3Options:
    """Keyword options for `S3Storage` from the settings (pure)."""
    return {"endpoint_url": settings.s3_endpoint_url, "region": settings.s3_region,
            "access_key": settings.s3_access_key,
            "secret_key": settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            "max_attempts": settings.s3_max_attempts}


def storage_for(settings: Settings, uri: str | None = None) -> Storage:
    """`uri` (default: the fleet storage, ``settings.storage``) opened with the settings' S3 options."""
    uri = settings.storage if uri is None else uri
    if uri.startswith("s3://"):
        return open_storage(uri, **s3_options(settings))
    return open_storage(uri)

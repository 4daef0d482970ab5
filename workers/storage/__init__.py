"""Object storage for masters and published outputs: one Protocol, real backends (local folder, S3).

    open_storage("s3://bucket/prefix", endpoint_url=..., ...)  → S3Storage
    open_storage("/abs/folder") or open_storage("file:///abs/folder") → LocalStorage
    storage_for(settings[, "s3://other-bucket"])  → the fleet storage (or another S3 location) with the
                                                    settings' S3 endpoint, credentials and retries
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Unpack
from urllib.parse import unquote, urlsplit

from workers.errors import KeyInvalid
from workers.keys import parse_s3_uri
from workers.storage.base import ObjectInfo, Storage
from workers.storage.local import LocalStorage
from workers.storage.s3 import S3Options, S3Storage

if TYPE_CHECKING:
    from workers.settings import Settings

__all__ = ["LocalStorage", "ObjectInfo", "S3Options", "S3Storage", "Storage", "open_storage", "storage_for"]


def open_storage(uri: str, **s3_options: Unpack[S3Options]) -> Storage:
    """The storage a URI names: ``s3://bucket[/prefix]``, ``file:///abs/folder`` or a plain local path.

    `s3_options` (endpoint, credentials, retries, multipart sizes) apply to s3:// URIs only.
    """
    if uri.startswith("s3://"):
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


def storage_for(settings: Settings, uri: str | None = None) -> Storage:
    """`uri` (default: the fleet storage, ``settings.storage``) opened with the settings' S3 options."""
    uri = settings.storage if uri is None else uri
    if uri.startswith("s3://"):
        return open_storage(uri, **settings.s3_options())
    return open_storage(uri)

"""Storage: the narrow seam between the fleet and wherever masters and outputs live.

Keys are POSIX-style relative object keys ("outputs/ep1/v3/master.m3u8"), validated by `validate_key`;
nothing a user sends becomes a key without it. Implementations: `workers.storage.local.LocalStorage`
(a directory acting as a bucket) and `workers.storage.s3.S3Storage` (boto3; any S3-compatible server).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from pipelines.errors import ScratchError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # opaque identity of the content (S3 ETag; sha256 for local)
    version: str | None = None  # S3 VersionId when the bucket is versioned


@runtime_checkable
class Storage(Protocol):
    """What the fleet needs from a bucket. Every method raises `workers.errors.StorageError` subclasses."""

    uri: str  # "s3://bucket/prefix" or "file:///abs/folder": where this storage points

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> ObjectInfo: ...
    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None,
                  if_none_match: bool = False) -> ObjectInfo:
        """With if_none_match, fail with `PreconditionFailed` if the key exists (create-only write)."""
        ...
    def get_file(self, key: str, path: Path) -> ObjectInfo:
        """Download to `path`; a full local disk there is `pipelines.errors.ScratchError` (`scratch_full`), not a
        storage error: the bucket is fine, the worker's disk is not."""
        ...
    def get_bytes(self, key: str) -> bytes: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...
    def delete(self, key: str) -> None: ...
    def presigned_url(self, key: str, *, expires: int = 3600) -> str: ...
    def abort_incomplete_uploads(self, prefix: str = "") -> int:
        """Discard partial uploads under `prefix` left by a failed or killed writer; return how many."""
        ...


def scratch_full(exc: BaseException, key: str, path: Path) -> ScratchError | None:
    """The error for a download of `key` to local `path` that failed because that disk is full (ENOSPC, EDQUOT,
    found in `exc` or what it was raised from), or None (pure). Same code as a full disk during the encode."""
    seen: BaseException | None = exc
    for _ in range(8):  # s3transfer and botocore wrap the writer's OSError
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno in DISK_FULL:
            return ScratchError(f"no space left on the device holding {path.parent} while downloading {key!r} "
                                f"({seen.strerror})", hint="free scratch space (VODFLEET_SCRATCH_DIR) or give the "
                                "worker a larger volume; the job is retried")
        seen = seen.__cause__ or seen.__context__
    return None

"""S3Storage: any S3-compatible server through boto3 (AWS S3, SeaweedFS, MinIO, Ceph RGW).

Behaviour (checked against SeaweedFS 4.48 by tests/fleet; see "What SeaweedFS supports" below):

- **Retries**: botocore's ``standard`` mode (exponential backoff with jitter, retry quota) for connection
  errors, timeouts, throttling and 5xx, at most ``max_attempts`` tries; then `StorageUnavailable`.
  403s (wrong secret, unknown key id, policy) are never retried: `AccessDenied` after one round trip.
- **Integrity**: every single-part upload carries ``x-amz-checksum-sha256`` computed here, so the server
  rejects damaged bytes (BadDigest → `ChecksumMismatch`, retryable); if the response echoes a sha256 it is
  compared, else an MD5-shaped ETag is compared with our MD5. Multipart uploads (files ≥
  ``multipart_threshold``, via boto3's TransferConfig/s3transfer) send a sha256 per part, and the object's
  size and COMPOSITE sha256 (recomputed here from the part sizes) are checked after completion. Downloads
  check the size and, when the server reports one, the full-object or composite sha256 (else the MD5 ETag
  of single-part objects); ranged parts of a multipart download are pinned to the ETag with If-Match.
- **Create-only writes**: ``put_bytes(..., if_none_match=True)`` sends ``If-None-Match: *``. If the reply
  to a successful create is lost and botocore's retry gets 412, the existing object's sha256 is compared
  with ours and the write is recognised as our own (so callers should make claimed content unique).
- **Errors** are translated at this boundary by `workers.storage.s3_errors.translate`.

What SeaweedFS 4.48 supports (tried, and kept true by the tests): SigV4 (with ``-s3.config``),
``If-None-Match: *`` on PutObject (412 for the loser; atomic under concurrent writers), ``ChecksumSHA256``
on PutObject/UploadPart (verified: a wrong digest gets BadDigest) and echoed by HEAD/GET with
``ChecksumMode=ENABLED``, COMPOSITE checksums for multipart objects, GetObjectAttributes ObjectParts (part
sizes), Content-MD5 verification, ListMultipartUploads/AbortMultipartUpload, presigned GET URLs.
Bucket names must be 3+ characters. HEAD of a missing key answers a bare 404, of a bad signature a bare 403.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.exceptions import RetriesExceededError
from s3transfer.subscribers import BaseSubscriber

from workers.errors import AccessDenied, ChecksumMismatch, KeyInvalid, ObjectNotFound, PreconditionFailed, StorageError
from workers.keys import join_key, validate_bucket, validate_key, validate_prefix
from workers.storage.base import ObjectInfo, scratch_full
from workers.storage.digest import Digests, composite_sha256, digest_bytes, digest_file
from workers.storage.s3_errors import translate

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024
BOTO_ERRORS = (BotoCoreError, ClientError, RetriesExceededError)
_MD5_ETAG = re.compile(r"[0-9a-f]{32}")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
AddressingStyle = Literal["auto", "virtual", "path"]


class S3Options(TypedDict, total=False):
    """Keyword options of `S3Storage` (what `open_storage` passes through for s3:// URIs)."""

    endpoint_url: str | None
    region: str
    access_key: str | None
    secret_key: str | None
    session_token: str | None
    max_attempts: int
    connect_timeout: float
    read_timeout: float
    multipart_threshold: int
    multipart_chunksize: int
    max_concurrency: int
    max_pool_connections: int
    addressing_style: AddressingStyle | None


class S3Storage:
    """A bucket (and a key prefix inside it) on an S3-compatible server. The constructor does no I/O."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str = "us-east-1", access_key: str | None = None, secret_key: str | None = None,
                 session_token: str | None = None, max_attempts: int = 5, connect_timeout: float = 5.0,
                 read_timeout: float = 60.0, multipart_threshold: int = 64 * MiB,
                 multipart_chunksize: int = 16 * MiB, max_concurrency: int = 4, max_pool_connections: int = 32,
                 addressing_style: AddressingStyle | None = None) -> None:
        self.bucket = validate_bucket(bucket)
        self.prefix = validate_prefix(prefix)
        self.uri = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        if (access_key is None) != (secret_key is None):
            raise AccessDenied("S3 credentials need both an access key and a secret key",
                               hint="set both, or neither to use the default credential chain")
        if max_attempts < 1 or connect_timeout <= 0 or read_timeout <= 0:
            raise StorageError("S3 retry and timeout settings must be positive",
                               hint=f"max_attempts={max_attempts}, connect_timeout={connect_timeout}, "
                                    f"read_timeout={read_timeout}")
        self.endpoint_url = endpoint_url
        self._credentials = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key,
                             "aws_session_token": session_token}
        self._config = Config(
            region_name=region, signature_version="s3v4",
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout, read_timeout=read_timeout, max_pool_connections=max_pool_connections,
            s3={"addressing_style": addressing_style or ("path" if endpoint_url else "auto")},
        )
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold,
                                       multipart_chunksize=multipart_chunksize, max_concurrency=max_concurrency)
        self._client_lock = threading.Lock()
        self._client_value: S3Client | None = None

    def __repr__(self) -> str:
        return f"S3Storage({self.uri!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def client(self) -> S3Client:
        """The boto3 client (created on first use; boto3 clients are thread-safe, sessions are not)."""
        with self._client_lock:
            if self._client_value is None:
                session = boto3.session.Session()
                self._client_value = session.client("s3", endpoint_url=self.endpoint_url, config=self._config,
                                                    **self._credentials)  # type: ignore[call-overload]
            return self._client_value

    def close(self) -> None:
        with self._client_lock:
            if self._client_value is not None:
                self._client_value.close()
                self._client_value = None

    # --- keys ------------------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        return join_key(self.prefix, validate_key(key))

    def _relative(self, full: str) -> str:
        return full[len(self.prefix) + 1:] if self.prefix else full

    def _list_prefix(self, prefix: str) -> str:
        if prefix:
            validate_prefix(prefix)
        base = f"{self.prefix}/" if self.prefix else ""
        return base + prefix

    # --- writes ----------------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None,
                  if_none_match: bool = False) -> ObjectInfo:
        full = self._full(key)
        digests = digest_bytes(data)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": full, "Body": data, "ChecksumSHA256": digests.sha256_b64}
        if content_type:
            args["ContentType"] = content_type
        if if_none_match:
            args["IfNoneMatch"] = "*"
        try:
            response = self.client.put_object(**args)
        except BOTO_ERRORS as exc:
            error = translate(exc, operation="put", target=self._where(full))
            if isinstance(error, PreconditionFailed) and self._is_ours(full, digests):
                return ObjectInfo(key=key, size=digests.size, etag=digests.md5.hex())
            raise error from exc
        return self._checked_put(key, full, response, digests)

    def _is_ours(self, full: str, digests: Digests) -> bool:
        """After a 412 on a create-only put: is the existing object our own bytes (a retried success)?"""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED")
        except BOTO_ERRORS:
            return False
        if head.get("ChecksumSHA256"):
            return head["ChecksumSHA256"] == digests.sha256_b64
        return _etag(head.get("ETag", "")) == digests.md5.hex()

    def _checked_put(self, key: str, full: str, response: Any, digests: Digests) -> ObjectInfo:
        etag = _etag(response.get("ETag", ""))
        echoed = response.get("ChecksumSHA256")
        if (echoed and echoed != digests.sha256_b64) or (
                not echoed and _MD5_ETAG.fullmatch(etag) and etag != digests.md5.hex()):
            raise ChecksumMismatch(f"put {self._where(full)}: the server stored different bytes",
                                   hint=f"sent sha256 {digests.sha256_b64}, server says {echoed or etag}")
        return ObjectInfo(key=key, size=digests.size, etag=etag, version=response.get("VersionId"))

    def put_file(self, key: str, path: Path, *, content_type: str | None = None,
                 progress: Callable[[int], None] | None = None) -> ObjectInfo:
        """Upload a file: one PutObject below ``multipart_threshold``, else a parallel multipart upload.

        `progress` (S3-only) is called with byte counts as they are sent.
        """
        full = self._full(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"local file {path} does not exist", hint="nothing to upload") from exc
        if size < self.transfer.multipart_threshold:
            digests = digest_file(path)
            args: dict[str, Any] = {"Bucket": self.bucket, "Key": full, "ChecksumSHA256": digests.sha256_b64}
            if content_type:
                args["ContentType"] = content_type
            try:
                with path.open("rb") as body:
                    response = self.client.put_object(Body=body, **args)
            except BOTO_ERRORS as exc:
                raise translate(exc, operation="put", target=self._where(full)) from exc
            if progress:
                progress(size)
            return self._checked_put(key, full, response, digests)
        extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"}
        if content_type:
            extra["ContentType"] = content_type
        subscribers = [_Progress(progress)] if progress else None
        try:
            with create_transfer_manager(self.client, self.transfer) as manager:
                manager.upload(str(path), self.bucket, full, extra_args=extra, subscribers=subscribers).result()
        except BOTO_ERRORS as exc:
            raise translate(exc, operation="multipart put", target=self._where(full)) from exc
        return self._verify_remote(key, full, path, size)

    def _verify_remote(self, key: str, full: str, path: Path, size: int) -> ObjectInfo:
        """After a multipart transfer (either way): sizes match and, when known, the sha256 does."""
        head = self._head_raw(full)
        if head is None:
            raise ObjectNotFound(f"{self._where(full)} vanished right after its transfer")
        if head["ContentLength"] != size:
            raise ChecksumMismatch(f"{self._where(full)}: {head['ContentLength']} bytes remote, {size} local")
        expected = self._expected_checksum(full, head, path)
        if expected is not None and expected[0] != expected[1]:
            raise ChecksumMismatch(f"{self._where(full)}: checksum differs (remote {expected[0]}, "
                                   f"local {expected[1]})", hint="retry the transfer")
        return ObjectInfo(key=key, size=size, etag=_etag(head.get("ETag", "")), version=head.get("VersionId"))

    def _expected_checksum(self, full: str, head: Any, path: Path) -> tuple[str, str] | None:
        """(remote, local) checksums to compare, or None when the server gives nothing comparable."""
        remote = head.get("ChecksumSHA256")
        etag = _etag(head.get("ETag", ""))
        if remote and "-" not in remote:
            return remote, digest_file(path).sha256_b64
        if remote:
            parts = self._part_sizes(full)
            return (remote, composite_sha256(path, parts)) if parts else None
        if _MD5_ETAG.fullmatch(etag):
            return etag, digest_file(path).md5.hex()
        return None

    def _part_sizes(self, full: str) -> list[int]:
        try:
            attributes = self.client.get_object_attributes(Bucket=self.bucket, Key=full,
                                                           ObjectAttributes=["ObjectParts"], MaxParts=10000)
        except BOTO_ERRORS:
            return []  # server without GetObjectAttributes: size is all we can check
        parts = attributes.get("ObjectParts", {}).get("Parts", [])
        return [part["Size"] for part in sorted(parts, key=lambda part: part["PartNumber"])]

    # --- reads -----------------------------------------------------------------------------------

    def _head_raw(self, full: str) -> Any | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED")
        except BOTO_ERRORS as exc:
            error = translate(exc, operation="head", target=self._where(full))
            if isinstance(error, ObjectNotFound):
                return None
            raise error from exc

    def head(self, key: str) -> ObjectInfo | None:
        head = self._head_raw(self._full(key))
        if head is None:
            return None
        return ObjectInfo(key=key, size=head["ContentLength"], etag=_etag(head.get("ETag", "")),
                          version=head.get("VersionId"))

    def get_bytes(self, key: str) -> bytes:
        full = self._full(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED")
            data = response["Body"].read()
        except BOTO_ERRORS as exc:
            raise translate(exc, operation="get", target=self._where(full)) from exc
        if len(data) != response["ContentLength"]:
            raise ChecksumMismatch(f"get {self._where(full)}: {len(data)} of {response['ContentLength']} bytes")
        remote, etag = response.get("ChecksumSHA256"), _etag(response.get("ETag", ""))
        digests = digest_bytes(data)
        if (remote and "-" not in remote and remote != digests.sha256_b64) or (
                not remote and _MD5_ETAG.fullmatch(etag) and etag != digests.md5.hex()):
            raise ChecksumMismatch(f"get {self._where(full)}: bytes differ from the stored checksum")
        return data

    def get_file(self, key: str, path: Path) -> ObjectInfo:
        full = self._full(key)
        head = self._head_raw(full)
        if head is None:
            raise ObjectNotFound(f"get {self._where(full)}: no such object")
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.~{secrets.token_hex(6)}")
        pin = _Pin(head["ContentLength"], head.get("ETag"))
        try:
            with create_transfer_manager(self.client, self.transfer) as manager:
                manager.download(self.bucket, full, str(temp), subscribers=[pin]).result()
            expected = self._expected_checksum(full, head, temp)
            size = temp.stat().st_size
            if size != head["ContentLength"] or (expected is not None and expected[0] != expected[1]):
                raise ChecksumMismatch(f"get {self._where(full)}: downloaded bytes differ from the object",
                                       hint=f"{size} of {head['ContentLength']} bytes; checksums {expected}")
            temp.replace(path)
        except BOTO_ERRORS as exc:
            raise (scratch_full(exc, key, temp) or translate(exc, operation="get", target=self._where(full))) from exc
        except OSError as exc:  # the local side: s3transfer's writer raises the file's own error
            full_disk = scratch_full(exc, key, temp)
            if full_disk is None:
                raise
            raise full_disk from exc
        finally:
            temp.unlink(missing_ok=True)
        return ObjectInfo(key=key, size=head["ContentLength"], etag=_etag(head.get("ETag", "")),
                          version=head.get("VersionId"))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under `prefix` (a plain string prefix, relative to this storage), in key order.

        Keys in the bucket that are not valid vodfleet keys (written by other tools) are skipped.
        """
        full_prefix = self._list_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                for item in page.get("Contents", []):
                    relative = self._relative(item["Key"])
                    try:
                        validate_key(relative)
                    except KeyInvalid:
                        continue
                    yield ObjectInfo(key=relative, size=item["Size"], etag=_etag(item.get("ETag", "")))
        except BOTO_ERRORS as exc:
            raise translate(exc, operation="list", target=f"s3://{self.bucket}/{full_prefix}") from exc

    def delete(self, key: str) -> None:
        full = self._full(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=full)
        except BOTO_ERRORS as exc:
            error = translate(exc, operation="delete", target=self._where(full))
            if not isinstance(error, ObjectNotFound) or "NoSuchBucket" in error.message:
                raise error from exc

    def presigned_url(self, key: str, *, expires: int = 3600) -> str:
        """A SigV4 presigned GET URL (no I/O: signed locally)."""
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise StorageError(f"presigned URL lifetime {expires}s is out of range",
                               hint=f"1..{MAX_PRESIGN_SECONDS} seconds (SigV4's limit)")
        full = self._full(key)
        try:
            return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": full},
                                                      ExpiresIn=expires)
        except BOTO_ERRORS as exc:
            raise translate(exc, operation="presign", target=self._where(full)) from exc

    def abort_incomplete_uploads(self, prefix: str = "") -> int:
        """Abort every multipart upload in progress under `prefix` (left by a killed attempt)."""
        full_prefix = self._list_prefix(prefix)
        aborted = 0
        try:
            paginator = self.client.get_paginator("list_multipart_uploads")
            uploads = [(upload["Key"], upload["UploadId"])
                       for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix)
                       for upload in page.get("Uploads", [])]
        except BOTO_ERRORS as exc:
            raise translate(exc, operation="list uploads", target=f"s3://{self.bucket}/{full_prefix}") from exc
        for key, upload_id in uploads:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                aborted += 1
            except BOTO_ERRORS as exc:
                error = translate(exc, operation="abort upload", target=f"s3://{self.bucket}/{key}")
                if not isinstance(error, ObjectNotFound):  # NoSuchUpload: someone finished or aborted it
                    raise error from exc
        return aborted

    def _where(self, full: str) -> str:
        return f"s3://{self.bucket}/{full}"


def _etag(value: str) -> str:
    return value.strip('"')


class _Progress(BaseSubscriber):
    def __init__(self, callback: Callable[[int], None]) -> None:
        self._callback = callback

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        self._callback(bytes_transferred)


class _Pin(BaseSubscriber):
    """Tell s3transfer the size and ETag we already know: no second HEAD, ranged GETs carry If-Match."""

    def __init__(self, size: int, etag: str | None) -> None:
        self._size, self._etag = size, etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self._size)
        if self._etag:
            future.meta.provide_object_etag(self._etag)

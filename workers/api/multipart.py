"""Direct uploads: the browser or the CMS puts a master's bytes straight into the fleet's S3 bucket through
presigned S3 multipart URLs (CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload); the API
signs URLs and keeps a small record, and never touches an uploaded byte.

Records: ``_vodfleet/api/uploads/<upload_id>.json`` (owner token id, object key, S3 UploadId, size, part size,
state). Objects: ``uploads/<upload_id>/<safe file name>`` in the fleet storage. Resume: GET /uploads/{id} asks S3
which parts it holds (ListParts) and signs fresh URLs for the others. Complete: the parts' ETags as S3 reports
them (checked against the uploader's when it sends them), every part present and sized as planned.

Integrity: POST /uploads/{id}/parts signs a part's URL with the SHA-256 its uploader computed
(``x-amz-checksum-sha256`` among the signed headers): S3 refuses a PUT whose body does not hash to it (400 BadDigest;
SeaweedFS 4.48 and AWS S3 check it), and a PUT without that header does not match the signature (403), so a part
corrupted between the file and the bucket never lands. Complete then checks every part's size and, when the
uploader sends them, its ETag (S3's MD5 of the part's bytes).

Expiry: an upload not completed within ``ttl`` seconds of its start (VODFLEET_API_UPLOAD_TTL) is abandoned: its
S3 multipart upload is aborted (AbortMultipartUpload frees the stored parts) and its record deleted. `sweep` does
this for every open S3 multipart upload under ``uploads/`` (run by POST /uploads at most every `sweep_every`
seconds per API process), and any request naming an expired upload does it for that one and answers
UploadExpired (410). Both are idempotent, so several API
replicas sweeping at once is safe: an upload another replica already aborted (NoSuchUpload) or a record already
deleted is skipped. Completed uploads keep their (small) record: it is what ``upload:<id>`` resolves to.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from workers.api.problems import NotFound, RequestInvalid, UploadExpired, UploadsUnavailable
from workers.api.schemas import PartChecksum, PartUrl, UploadedPart, UploadOut
from workers.api.settings import S3_MAX_PARTS
from workers.errors import ObjectNotFound
from workers.intake.submit import safe_name
from workers.keys import join_key
from workers.storage.base import Storage

RECORDS = "_vodfleet/api/uploads"
OBJECTS = "uploads"


@dataclass(frozen=True)
class Upload:
    upload_id: str
    token_id: str
    key: str  # in the fleet storage
    s3_upload_id: str
    filename: str
    size: int
    part_size: int
    content_type: str
    state: str  # "uploading" | "complete"
    created: float

    @property
    def part_count(self) -> int:
        return max(1, math.ceil(self.size / self.part_size))

    def part_range(self, number: int) -> tuple[int, int]:
        """(offset, size) of part `number` (1-based) (pure)."""
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)


def plan_part_size(size: int, preferred: int) -> int:
    """The part size for a `size`-byte object: `preferred`, grown so it needs at most 10,000 parts (pure)."""
    return max(preferred, math.ceil(size / S3_MAX_PARTS))


class UploadBook:
    """Upload records and the S3 calls behind them; needs S3 fleet storage (`UploadsUnavailable` otherwise)."""

    def __init__(self, storage: Storage, *, part_size: int, max_bytes: int, expires: int,
                 ttl: float = 86400.0) -> None:
        self.storage = storage
        self.part_size = part_size
        self.max_bytes = max_bytes
        self.expires = expires
        self.ttl = ttl
        self.sweep_every = min(300.0, max(1.0, ttl / 4))
        self._swept = 0.0

    def is_expired(self, upload: Upload, now: float) -> bool:
        """An upload still uploading `ttl` seconds after its start (pure)."""
        return upload.state != "complete" and now - upload.created > self.ttl

    def expire(self, upload: Upload) -> None:
        """Abort the upload's S3 multipart upload and delete its record (each step skipped when done already)."""
        client, bucket, _ = self._s3()
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=self._full(upload.key), UploadId=upload.s3_upload_id)
        except ClientError as exc:  # NoSuchUpload: another replica (or an earlier try) aborted it first
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
                raise
        self.storage.delete(f"{RECORDS}/{upload.upload_id}.json")

    def sweep(self, now: float | None = None) -> list[str]:
        """Expire every upload past its ttl; the ids expired (by this call). Only S3's open multipart uploads
        under ``uploads/`` are read (ListMultipartUploads), not the records of completed ones; an upload's age is
        its record's `created` or, for one without a record (its record write failed), S3's Initiated time.
        Uploads another replica aborts meanwhile are skipped."""
        now = time.time() if now is None else now
        self._swept = now
        client, bucket, _ = self._s3()
        root = self._full(OBJECTS) + "/"
        expired: list[str] = []
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=root):
            for item in page.get("Uploads", []):
                rest = str(item["Key"])[len(root):]
                upload_id = rest.split("/", 1)[0]
                try:
                    started = Upload(**json.loads(self.storage.get_bytes(f"{RECORDS}/{upload_id}.json"))).created
                except (ObjectNotFound, ValueError, TypeError):
                    started = item["Initiated"].timestamp()
                if now - started <= self.ttl:
                    continue
                self.expire(Upload(upload_id=upload_id, token_id="", key=f"{OBJECTS}/{rest}",
                                   s3_upload_id=str(item["UploadId"]), filename="", size=0, part_size=1,
                                   content_type="", state="uploading", created=started))
                expired.append(upload_id)
        return expired

    def sweep_if_due(self) -> list[str]:
        """`sweep` when this process last swept more than `sweep_every` seconds ago (else nothing)."""
        now = time.time()
        return self.sweep(now) if now - self._swept >= self.sweep_every else []

    def _s3(self) -> tuple[Any, str, str]:
        client = getattr(self.storage, "client", None)
        bucket = getattr(self.storage, "bucket", None)
        if client is None or bucket is None:
            raise UploadsUnavailable(f"direct uploads need S3 fleet storage; this fleet stores in {self.storage.uri}",
                                     hint="set VODFLEET_STORAGE_URI=s3://bucket/prefix, or submit with "
                                          "`vodfleet submit` from a machine that has the file")
        return client, str(bucket), str(getattr(self.storage, "prefix", ""))

    def _full(self, key: str) -> str:
        prefix = self._s3()[2]
        return join_key(prefix, key) if prefix else key

    def _save(self, upload: Upload) -> None:
        self.storage.put_bytes(f"{RECORDS}/{upload.upload_id}.json", json.dumps(asdict(upload)).encode(),
                               content_type="application/json")

    def get(self, upload_id: str, token_id: str) -> Upload:
        """The upload (NotFound when unknown or another token's)."""
        if not upload_id.startswith("up_") or not upload_id[3:].isalnum() or len(upload_id) > 40:
            raise NotFound(f"no upload {upload_id[:40]!r}", hint="start one with POST /uploads")
        try:
            upload = Upload(**json.loads(self.storage.get_bytes(f"{RECORDS}/{upload_id}.json")))
        except ObjectNotFound:
            upload = None
        if upload is None or upload.token_id != token_id:
            raise NotFound(f"no upload {upload_id!r} for this token", hint="start one with POST /uploads")
        if self.is_expired(upload, time.time()):
            self.expire(upload)
            raise UploadExpired(f"upload {upload_id} was not completed within {self.ttl:g} s of its start "
                                "(VODFLEET_API_UPLOAD_TTL): its parts were discarded",
                                hint="start the upload again with POST /uploads (and complete it within the ttl)")
        return upload

    def start(self, token_id: str, filename: str, size: int, content_type: str) -> Upload:
        client, bucket, _ = self._s3()
        if size > self.max_bytes:
            raise RequestInvalid(f"size {size} is over the limit of {self.max_bytes} bytes",
                                 hint="raise VODFLEET_API_MAX_UPLOAD_BYTES or split the master", field="body.size")
        name = safe_name(filename.replace("\\", "/").rsplit("/", 1)[-1])
        upload_id = "up_" + secrets.token_hex(8)
        key = f"{OBJECTS}/{upload_id}/{name}"
        response = client.create_multipart_upload(Bucket=bucket, Key=self._full(key), ContentType=content_type)
        upload = Upload(upload_id=upload_id, token_id=token_id, key=key, s3_upload_id=response["UploadId"],
                        filename=name, size=size, part_size=plan_part_size(size, self.part_size),
                        content_type=content_type, state="uploading", created=time.time())
        self._save(upload)
        return upload

    def uploaded(self, upload: Upload) -> list[UploadedPart]:
        """The parts S3 holds now (ListParts, every page)."""
        if upload.state == "complete":
            return []
        client, bucket, _ = self._s3()
        parts: list[UploadedPart] = []
        marker = 0
        while True:
            page = client.list_parts(Bucket=bucket, Key=self._full(upload.key), UploadId=upload.s3_upload_id,
                                     PartNumberMarker=marker, MaxParts=1000)
            parts += [UploadedPart(part_number=p["PartNumber"], etag=p["ETag"], size=p["Size"])
                      for p in page.get("Parts", [])]
            if not page.get("IsTruncated"):
                return parts
            marker = int(page["NextPartNumberMarker"])

    def describe(self, upload: Upload) -> UploadOut:
        """The upload with the parts S3 holds and presigned URLs for the rest."""
        uploaded = self.uploaded(upload)
        done = {p.part_number for p in uploaded if p.size == upload.part_range(p.part_number)[1]}
        urls = []
        if upload.state != "complete":
            client, bucket, _ = self._s3()
            for number in range(1, upload.part_count + 1):
                if number in done:
                    continue
                offset, size = upload.part_range(number)
                url = client.generate_presigned_url(
                    "upload_part", ExpiresIn=self.expires,
                    Params={"Bucket": bucket, "Key": self._full(upload.key), "UploadId": upload.s3_upload_id,
                            "PartNumber": number})
                urls.append(PartUrl(part_number=number, url=url, offset=offset, size=size))
        return UploadOut(upload_id=upload.upload_id, source=f"upload:{upload.upload_id}", filename=upload.filename,
                         size=upload.size, part_size=upload.part_size,
                         state="complete" if upload.state == "complete" else "uploading", parts=urls,
                         uploaded=uploaded, expires_in=self.expires)

    def sign_parts(self, upload: Upload, checksums: list[PartChecksum]) -> list[PartUrl]:
        """A presigned UploadPart URL per part, signed with its SHA-256 (the PUT must send the header
        ``x-amz-checksum-sha256`` with it). RequestInvalid (field ``body.parts.N...``) for a part number outside the
        plan, a malformed checksum, or a complete upload."""
        if upload.state == "complete":
            raise RequestInvalid(f"upload {upload.upload_id} is complete", hint="submit it: source "
                                 f"upload:{upload.upload_id}", field="path.upload_id")
        client, bucket, _ = self._s3()
        signed = []
        for index, part in enumerate(checksums):
            if part.part_number > upload.part_count:
                raise RequestInvalid(f"part {part.part_number}: upload {upload.upload_id} has {upload.part_count} "
                                     "parts", hint="number parts 1..part_count as POST /uploads planned them",
                                     field=f"body.parts.{index}.part_number")
            try:
                valid = len(base64.b64decode(part.sha256, validate=True)) == 32
            except (binascii.Error, ValueError):
                valid = False
            if not valid:
                raise RequestInvalid(f"part {part.part_number}: sha256 {part.sha256[:60]!r} is not the base64 of a "
                                     "32-byte SHA-256", hint="send base64(sha256(part bytes)), 44 characters",
                                     field=f"body.parts.{index}.sha256")
            offset, size = upload.part_range(part.part_number)
            url = client.generate_presigned_url(
                "upload_part", ExpiresIn=self.expires,
                Params={"Bucket": bucket, "Key": self._full(upload.key), "UploadId": upload.s3_upload_id,
                        "PartNumber": part.part_number, "ChecksumSHA256": part.sha256})
            signed.append(PartUrl(part_number=part.part_number, url=url, offset=offset, size=size,
                                  headers={"x-amz-checksum-sha256": part.sha256}))
        return signed

    def complete(self, upload: Upload, claimed: list[UploadedPart] | None) -> Upload:
        """CompleteMultipartUpload once every part is there, sized as planned (and with the uploader's ETags)."""
        if upload.state == "complete":
            return upload
        client, bucket, _ = self._s3()
        held = {p.part_number: p for p in self.uploaded(upload)}
        missing = [n for n in range(1, upload.part_count + 1)
                   if n not in held or held[n].size != upload.part_range(n)[1]]
        if missing:
            raise RequestInvalid(f"upload {upload.upload_id}: parts {_ranges(missing)} of {upload.part_count} are "
                                 "missing or incomplete", hint="PUT them (GET /uploads/{id} gives fresh URLs), "
                                 "then complete again", field="parts")
        for part in claimed or []:
            mine = held.get(part.part_number)
            if mine is None or mine.etag.strip('"') != part.etag.strip('"'):
                raise RequestInvalid(f"upload {upload.upload_id}: part {part.part_number}'s ETag {part.etag} is not "
                                     f"the storage's ({mine.etag if mine else 'none'}): its bytes changed in "
                                     "transit or another writer replaced them", hint="upload that part again",
                                     field="body.parts")
        client.complete_multipart_upload(
            Bucket=bucket, Key=self._full(upload.key), UploadId=upload.s3_upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": held[n].etag}
                                       for n in range(1, upload.part_count + 1)]})
        finished = Upload(**{**asdict(upload), "state": "complete"})
        self._save(finished)
        return finished


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")

"""S3-only behaviour under failure: bad credentials, a dead server, a restart mid-upload, killed uploads."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from seaweed_server import BUCKET, SeaweedServer

from workers.errors import AccessDenied, ObjectNotFound, StorageRejected, StorageUnavailable
from workers.storage import S3Storage
from workers.storage.s3_errors import translate

MiB = 1024 * 1024


def _random_file(path: Path, mib: int) -> Path:
    with path.open("wb") as stream:
        for _ in range(mib):
            stream.write(os.urandom(MiB))
    return path


def test_wrong_secret_is_access_denied_at_once(seaweed: SeaweedServer, s3_prefix: str) -> None:
    storage = S3Storage(BUCKET, s3_prefix, endpoint_url=seaweed.endpoint, access_key=seaweed.access_key,
                        secret_key="not-the-secret", max_attempts=8)
    started = time.monotonic()
    for call in (lambda: storage.put_bytes("k", b"x"), lambda: storage.get_bytes("k"),
                 lambda: storage.head("k"), lambda: list(storage.list(""))):
        with pytest.raises(AccessDenied) as caught:
            call()
        assert not caught.value.retryable
    elapsed = time.monotonic() - started
    storage.close()
    assert elapsed < 3.0, f"403s must not be retried: 4 calls took {elapsed:.1f}s"


def test_unknown_access_key_is_access_denied(seaweed: SeaweedServer, s3_prefix: str) -> None:
    storage = S3Storage(BUCKET, s3_prefix, endpoint_url=seaweed.endpoint, access_key="nobody",
                        secret_key="nothing", max_attempts=8)
    with pytest.raises(AccessDenied):
        storage.put_bytes("k", b"x")
    storage.close()


def test_missing_bucket_is_object_not_found(seaweed: SeaweedServer) -> None:
    storage = S3Storage("no-such-bucket-here", "", endpoint_url=seaweed.endpoint, access_key=seaweed.access_key,
                        secret_key=seaweed.secret_key)
    with pytest.raises(ObjectNotFound, match="NoSuchBucket"):
        storage.get_bytes("k")
    storage.close()


def test_stopped_server_is_unavailable_after_bounded_retries(private_seaweed: SeaweedServer) -> None:
    storage = private_seaweed.storage("down", max_attempts=3, connect_timeout=1.0, read_timeout=2.0)
    storage.put_bytes("before", b"x")
    private_seaweed.stop(kill=True)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        storage.put_bytes("after", b"y")
    elapsed = time.monotonic() - started
    assert caught.value.retryable
    assert elapsed < 15.0, f"3 attempts must give up quickly, took {elapsed:.1f}s"
    with pytest.raises(StorageUnavailable):
        storage.get_bytes("before")
    storage.close()


def test_restart_mid_upload_is_retried_and_completes(private_seaweed: SeaweedServer, tmp_path: Path) -> None:
    """The server is killed while part 2 of 6 is in flight and is back ~1 s later; the upload completes."""
    source = _random_file(tmp_path / "master.mp4", 30)
    storage = private_seaweed.storage("restart", max_attempts=12, connect_timeout=1.0, read_timeout=10.0,
                                      multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=1)
    sent = [0]
    into_part_two = threading.Event()
    outage: dict[str, Any] = {}

    def progress(count: int) -> None:
        sent[0] += count
        if sent[0] > 6 * MiB:
            into_part_two.set()

    def restart() -> None:
        into_part_two.wait(timeout=60)
        outage["killed_at_bytes"] = sent[0]
        began = time.monotonic()
        private_seaweed.stop(kill=True)
        time.sleep(1.0)
        private_seaweed.start()
        outage["down_seconds"] = time.monotonic() - began

    controller = threading.Thread(target=restart)
    controller.start()
    started = time.monotonic()
    info = storage.put_file("masters/ep1.mp4", source, progress=progress)
    took = time.monotonic() - started
    controller.join()
    print(f"restart mid-upload: killed after {outage['killed_at_bytes'] / MiB:.1f} MiB, "
          f"down {outage['down_seconds']:.1f}s, upload took {took:.1f}s")
    assert outage["killed_at_bytes"] < 30 * MiB
    assert info.size == 30 * MiB
    out = tmp_path / "back.mp4"
    storage.get_file("masters/ep1.mp4", out)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert storage.abort_incomplete_uploads("") == 0
    storage.close()


def test_incomplete_multipart_uploads_are_aborted(seaweed: SeaweedServer, s3_storage: S3Storage) -> None:
    """What a killed attempt leaves: a multipart upload with a part and no completion."""
    raw: Any = seaweed.client()
    prefix = s3_storage.prefix
    for name in ("out/v0001/seg_1.m4s", "out/v0001/seg_2.m4s", "elsewhere/x"):
        upload = raw.create_multipart_upload(Bucket=BUCKET, Key=f"{prefix}/{name}")
        raw.upload_part(Bucket=BUCKET, Key=f"{prefix}/{name}", UploadId=upload["UploadId"], PartNumber=1,
                        Body=os.urandom(1024))
    assert s3_storage.abort_incomplete_uploads("out/") == 2
    left = raw.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{prefix}/").get("Uploads", [])
    assert [item["Key"] for item in left] == [f"{prefix}/elsewhere/x"]
    assert s3_storage.abort_incomplete_uploads("") == 1
    assert s3_storage.abort_incomplete_uploads("") == 0
    assert list(s3_storage.list("")) == []
    raw.close()


def test_translation_table() -> None:
    """The boundary's mapping for errors the server above never sends (throttling, 5xx, other 4xx)."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                           "PutObject")

    assert isinstance(translate(client_error("SlowDown", 503), operation="put", target="t"), StorageUnavailable)
    assert isinstance(translate(client_error("InternalError", 500), operation="put", target="t"), StorageUnavailable)
    assert isinstance(translate(client_error("", 429), operation="put", target="t"), StorageUnavailable)
    assert isinstance(translate(client_error("InvalidArgument", 400), operation="put", target="t"), StorageRejected)
    assert isinstance(translate(client_error("403", 403), operation="head", target="t"), AccessDenied)
    assert isinstance(translate(EndpointConnectionError(endpoint_url="http://x"), operation="put", target="t"),
                      StorageUnavailable)

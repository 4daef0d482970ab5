"""The Storage contract, run over every backend (a local folder and SeaweedFS S3)."""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.request
from pathlib import Path

import pytest

from workers.errors import KeyInvalid, ObjectNotFound, PreconditionFailed
from workers.storage import LocalStorage, S3Storage, open_storage
from workers.storage.base import Storage

HOSTILE = ["../escape", "/abs/key", "a/../b", "a/./b", "a//b", "a\\b", "a\x00b", "a\nb", "a b", "a/b/",
           "", "-rf", "k\u202egpj.exe", "ＡＢ"]


def test_backends_satisfy_the_protocol(storage: Storage) -> None:
    assert isinstance(storage, Storage)
    assert storage.uri.startswith(("file:///", "s3://"))


def test_bytes_round_trip_and_head(storage: Storage) -> None:
    info = storage.put_bytes("a/b/hello.txt", b"hello", content_type="text/plain")
    assert (info.key, info.size) == ("a/b/hello.txt", 5)
    assert storage.get_bytes("a/b/hello.txt") == b"hello"
    head = storage.head("a/b/hello.txt")
    assert head is not None
    assert (head.key, head.size, head.etag) == ("a/b/hello.txt", 5, info.etag)
    storage.put_bytes("a/b/hello.txt", b"hello again")  # plain puts overwrite
    assert storage.get_bytes("a/b/hello.txt") == b"hello again"
    assert storage.head("a/b/missing") is None


def test_file_round_trip(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(300_000))
    info = storage.put_file("files/in.bin", source, content_type="application/octet-stream")
    assert info.size == 300_000
    out = tmp_path / "out" / "copy.bin"
    got = storage.get_file("files/in.bin", out)
    assert out.read_bytes() == source.read_bytes()
    assert got.size == 300_000
    assert not [p for p in out.parent.iterdir() if p != out], "no temp files left beside the download"


def test_list_by_prefix_sorted(storage: Storage) -> None:
    for key in ["v/b/2.m4s", "v/a/1.m4s", "v/a/0.m4s", "va/x", "w/y"]:
        storage.put_bytes(key, key.encode())
    assert [info.key for info in storage.list("v/")] == ["v/a/0.m4s", "v/a/1.m4s", "v/b/2.m4s"]
    assert [info.key for info in storage.list("v")] == ["v/a/0.m4s", "v/a/1.m4s", "v/b/2.m4s", "va/x"]
    assert [info.key for info in storage.list("v/a/1")] == ["v/a/1.m4s"]
    assert [info.key for info in storage.list("nothing/")] == []
    assert [info.size for info in storage.list("w/")] == [3]
    assert [info.key for info in storage.list("")] == ["v/a/0.m4s", "v/a/1.m4s", "v/b/2.m4s", "va/x", "w/y"]


def test_delete(storage: Storage) -> None:
    storage.put_bytes("d/one", b"1")
    storage.delete("d/one")
    assert storage.head("d/one") is None
    assert list(storage.list("d/")) == []
    storage.delete("d/one")  # deleting a missing key is fine, as on S3


def test_missing_key_is_object_not_found(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        storage.get_bytes("no/such/key")
    with pytest.raises(ObjectNotFound):
        storage.get_file("no/such/key", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_if_none_match_is_create_only(storage: Storage) -> None:
    storage.put_bytes("claims/one", b"first", if_none_match=True)
    with pytest.raises(PreconditionFailed):
        storage.put_bytes("claims/one", b"second", if_none_match=True)
    assert storage.get_bytes("claims/one") == b"first"


@pytest.mark.parametrize("round_", range(3))
def test_if_none_match_race_has_one_winner(storage: Storage, round_: int) -> None:
    contenders = 4
    barrier = threading.Barrier(contenders)
    winners: list[int] = []
    losers: list[int] = []

    def contend(number: int) -> None:
        barrier.wait()
        try:
            storage.put_bytes(f"race/{round_}", f"token-{number}".encode(), if_none_match=True)
            winners.append(number)
        except PreconditionFailed:
            losers.append(number)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1, (winners, losers)
    assert len(losers) == contenders - 1
    assert storage.get_bytes(f"race/{round_}") == f"token-{winners[0]}".encode()


def test_presigned_url_fetches_the_bytes(storage: Storage) -> None:
    payload = os.urandom(10_000)
    storage.put_bytes("share/clip.bin", payload)
    url = storage.presigned_url("share/clip.bin", expires=60)
    with urllib.request.urlopen(url, timeout=10) as response:  # file:// for local, http:// SigV4 for S3
        assert response.read() == payload


@pytest.mark.parametrize("key", HOSTILE)
def test_invalid_keys_rejected_everywhere(storage: Storage, key: str, tmp_path: Path) -> None:
    with pytest.raises(KeyInvalid):
        storage.put_bytes(key, b"x")
    with pytest.raises(KeyInvalid):
        storage.get_bytes(key)
    with pytest.raises(KeyInvalid):
        storage.head(key)
    with pytest.raises(KeyInvalid):
        storage.delete(key)
    assert list(storage.list("")) == []


def test_large_file_round_trip_with_checksum(storage: Storage, tmp_path: Path) -> None:
    """20 MB: with the 5 MB threshold the S3 backend uploads and downloads it in parts."""
    source = tmp_path / "big.bin"
    with source.open("wb") as stream:
        for _ in range(20):
            stream.write(os.urandom(1024 * 1024))
    info = storage.put_file("big/master.mp4", source)
    assert info.size == 20 * 1024 * 1024
    if isinstance(storage, S3Storage):
        assert info.etag.endswith("-4"), f"expected a 4-part multipart upload, got ETag {info.etag}"
    out = tmp_path / "big.out"
    storage.get_file("big/master.mp4", out)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert storage.abort_incomplete_uploads("big/") == 0


def test_open_storage_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_storage(str(tmp_path)), LocalStorage)
    local = open_storage(tmp_path.as_uri())
    assert isinstance(local, LocalStorage)
    assert local.uri == tmp_path.as_uri()
    s3 = open_storage("s3://my-bucket/out/ep1/", endpoint_url="http://127.0.0.1:1", max_attempts=1)
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.uri) == ("my-bucket", "out/ep1", "s3://my-bucket/out/ep1")
    for bad in ["ftp://host/x", "s3://Bad_Bucket/x", "s3://bucket/../x", "file://host/x", ""]:
        with pytest.raises(KeyInvalid):
            open_storage(bad)
    with pytest.raises(TypeError):
        open_storage(str(tmp_path), endpoint_url="http://x")  # type: ignore[call-arg]


def test_local_storage_never_escapes_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "bucket"
    root.mkdir()
    (root / "link").symlink_to(outside)
    storage = LocalStorage(root)
    from workers.errors import AccessDenied

    with pytest.raises(AccessDenied):
        storage.put_bytes("link/planted", b"x")
    with pytest.raises(AccessDenied):
        storage.get_bytes("link/secret")
    assert not (outside / "planted").exists()
    assert [info.key for info in storage.list("")] == []


def test_local_storage_leaves_no_temp_files_and_sweeps_killed_ones(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    storage.put_bytes("v/a", b"a")
    with pytest.raises(PreconditionFailed):
        storage.put_bytes("v/a", b"b", if_none_match=True)
    assert sorted(p.name for p in (tmp_path / "bucket" / "v").iterdir()) == ["a"]
    (tmp_path / "bucket" / "v" / ".b.~dead").write_bytes(b"partial")  # what a killed writer leaves
    assert [info.key for info in storage.list("v/")] == ["v/a"]
    assert storage.abort_incomplete_uploads("v/") == 1
    assert sorted(p.name for p in (tmp_path / "bucket" / "v").iterdir()) == ["a"]

"""Content digests used to prove that bytes arrived intact (sha256, MD5, S3's composite checksums)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Digests:
    size: int
    sha256: bytes
    md5: bytes

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(self.sha256).decode("ascii")

    @property
    def md5_b64(self) -> str:
        return base64.b64encode(self.md5).decode("ascii")


def digest_bytes(data: bytes) -> Digests:
    return Digests(len(data), hashlib.sha256(data).digest(), hashlib.md5(data, usedforsecurity=False).digest())


def digest_file(path: Path) -> Digests:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return Digests(size, sha.digest(), md5.digest())


def composite_sha256(path: Path, part_sizes: Sequence[int]) -> str:
    """S3's COMPOSITE checksum of a multipart object: sha256 over the parts' sha256 digests, then "-N"."""
    outer = hashlib.sha256()
    with path.open("rb") as stream:
        for size in part_sizes:
            part, left = hashlib.sha256(), size
            while left > 0 and (chunk := stream.read(min(CHUNK, left))):
                part.update(chunk)
                left -= len(chunk)
            outer.update(part.digest())
    return f"{base64.b64encode(outer.digest()).decode('ascii')}-{len(part_sizes)}"

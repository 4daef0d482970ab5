"""Per-part integrity of direct uploads against the real SeaweedFS: a part URL signed with the part's SHA-256
(POST /uploads/{id}/parts) makes S3 itself refuse a corrupted body (400 BadDigest) or a PUT without the checksum
header (403); the right bytes land and the upload completes with the uploader's ETags."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import httpx
from apikit import ApiFleet
from fleet.seaweed_server import BUCKET  # tests/ is on sys.path (tests/conftest.py)
from openapi_check import OpenApiCheck

MiB = 1024 * 1024


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _held(api_fleet: ApiFleet, key: str, s3_upload_id: str) -> dict[int, int]:
    listed = api_fleet.s3.client().list_parts(Bucket=BUCKET, Key=key, UploadId=s3_upload_id)
    return {p["PartNumber"]: p["Size"] for p in listed.get("Parts", [])}


def test_a_corrupted_part_is_refused_by_s3(api_fleet: ApiFleet, openapi: OpenApiCheck) -> None:
    data = os.urandom(6 * MiB)
    with api_fleet.client("a") as client, httpx.Client(timeout=60) as s3:
        started = openapi.check(client.post("/uploads", json={"filename": "checked.mov", "size": len(data)}))
        upload_id = started["upload_id"]
        parts = {p["part_number"]: p for p in started["parts"]}
        assert sorted(parts) == [1, 2]
        body = {"parts": [{"part_number": n, "sha256": _sha256(data[p["offset"]:p["offset"] + p["size"]])}
                          for n, p in parts.items()]}
        signed = openapi.check(client.post(f"/uploads/{upload_id}/parts", json=body))
        urls = {p["part_number"]: p for p in signed["parts"]}
        assert urls[1]["headers"] == {"x-amz-checksum-sha256": body["parts"][0]["sha256"]}
        record = api_fleet.s3.client().get_object(
            Bucket=BUCKET, Key=f"{api_fleet.prefix}/_vodfleet/api/uploads/{upload_id}.json")["Body"].read()
        key, s3_upload_id = f"{api_fleet.prefix}/uploads/{upload_id}/checked.mov", _s3_id(record)

        first = data[:urls[1]["size"]]
        corrupted = bytearray(first)
        corrupted[12345] ^= 0x01  # one bit flipped in transit
        refused = s3.put(urls[1]["url"], content=bytes(corrupted), headers=urls[1]["headers"])
        assert refused.status_code == 400 and "BadDigest" in refused.text, refused.text
        unsigned = s3.put(urls[1]["url"], content=first)  # the checksum header is part of the signature
        assert unsigned.status_code == 403, unsigned.text
        assert _held(api_fleet, key, s3_upload_id) == {}

        etags = []
        for number, part in sorted(urls.items()):
            chunk = data[part["offset"]:part["offset"] + part["size"]]
            put = s3.put(part["url"], content=chunk, headers=part["headers"])
            assert put.status_code == 200, put.text
            assert put.headers["etag"].strip('"') == hashlib.md5(chunk).hexdigest()  # S3's ETag of a part
            etags.append({"part_number": number, "etag": put.headers["etag"], "size": part["size"]})
        done = openapi.check(client.post(f"/uploads/{upload_id}/complete", json={"parts": etags}))
        assert done["state"] == "complete"
    stored = api_fleet.s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


def _s3_id(record: bytes) -> str:
    return str(json.loads(record)["s3_upload_id"])

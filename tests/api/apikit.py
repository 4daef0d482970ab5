"""Helpers of the API tests: a direct upload through the API's presigned URLs, waiting for a job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest


def upload(client: httpx.Client, path: Path, *, stop_after: int | None = None) -> dict[str, Any]:
    """POST /uploads, PUT every part straight to S3 (only `stop_after` parts when given), complete; the upload."""
    data = path.read_bytes()
    started = client.post("/uploads", json={"filename": path.name, "size": len(data)})
    assert started.status_code == 201, started.text
    upload = started.json()
    with httpx.Client(timeout=60) as s3:
        for count, part in enumerate(upload["parts"]):
            if stop_after is not None and count >= stop_after:
                return upload
            put = s3.put(part["url"], content=data[part["offset"]:part["offset"] + part["size"]])
            assert put.status_code == 200, put.text
    done = client.post(f"/uploads/{upload['upload_id']}/complete", json={})
    assert done.status_code == 200, done.text
    return done.json()  # type: ignore[no-any-return]


def wait_job(client: httpx.Client, job_id: str, states: set[str], *, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/jobs/{job_id}").json()
        if body.get("state") in states:
            return body
        time.sleep(0.2)
    pytest.fail(f"job {job_id} not in {states} after {timeout} s: {body}")

"""Two API replicas over one fleet (the same job store and storage): the per-token submission budget is shared
through the store, and abandoned uploads expire (AbortMultipartUpload, record deleted) with a tiny
VODFLEET_API_UPLOAD_TTL, swept by whichever replica serves POST /uploads."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from apikit import ApiFleet
from fleet.seaweed_server import BUCKET  # tests/ is on sys.path (tests/conftest.py)
from fleetkit import free_port, vodfleet_argv, wait_port

TTL = 3.0
BURST = 3
MiB = 1024 * 1024


@dataclass
class Replicas:
    fleet: ApiFleet
    bases: list[str]
    token: str

    def client(self, index: int) -> httpx.Client:
        return httpx.Client(base_url=self.bases[index], headers={"Authorization": f"Bearer {self.token}"},
                            timeout=30)


@pytest.fixture(scope="module")
def replicas(api_fleet: ApiFleet) -> Iterator[Replicas]:
    """Two more `vodfleet api` processes on the session's fleet: 1 submission a minute, a burst of 3, uploads
    expire after 3 s; a fresh team-c token (its own bucket)."""
    env = {**api_fleet.env, "VODFLEET_API_SUBMIT_RATE": "1", "VODFLEET_API_SUBMIT_BURST": str(BURST),
           "VODFLEET_API_UPLOAD_TTL": str(TTL)}
    token = api_fleet.token("team-c/", "submit")
    procs: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for index in range(2):
            port = free_port()
            log = (api_fleet.state / f"replica{index}.log").open("ab")
            proc = subprocess.Popen(vodfleet_argv("api", "--port", str(port)), env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
            log.close()
            procs.append(proc)
            wait_port(port, 60, proc)
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            deadline = time.monotonic() + 30
            while httpx.get(f"{base}/healthz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.1)
        yield Replicas(api_fleet, bases, token)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_submit_budget_is_shared_by_two_api_processes(replicas: Replicas) -> None:
    """Six submissions alternating between the replicas: only the burst (3) gets past the limit, the other three
    are 429 rate_limited with Retry-After (per-process buckets would let all six through)."""
    body = {"source": f"team-c/masters/none-{secrets.token_hex(4)}.mov", "output_prefix": "team-c/out"}
    statuses = []
    with replicas.client(0) as first, replicas.client(1) as second:
        for index in range(2 * BURST):
            answer = (first, second)[index % 2].post("/jobs", json=body)
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert answer.json()["error"]["code"] == "rate_limited"
                assert int(answer.headers["Retry-After"]) >= 1
    assert statuses.count(429) == BURST, statuses
    assert 429 not in statuses[:BURST], statuses


def _open_uploads(fleet: ApiFleet) -> set[str]:
    listed = fleet.s3.client().list_multipart_uploads(Bucket=BUCKET, Prefix=f"{fleet.prefix}/uploads/")
    return {u["UploadId"] for u in listed.get("Uploads", [])}


def _record_exists(fleet: ApiFleet, upload_id: str) -> bool:
    listed = fleet.s3.client().list_objects_v2(Bucket=BUCKET,
                                               Prefix=f"{fleet.prefix}/_vodfleet/api/uploads/{upload_id}.json")
    return bool(listed.get("Contents"))


def _start(client: httpx.Client, *, put_first: bool) -> dict[str, object]:
    started = client.post("/uploads", json={"filename": "abandoned.mov", "size": 6 * MiB})
    assert started.status_code == 201, started.text
    upload: dict[str, object] = started.json()
    if put_first:
        part = upload["parts"][0]  # type: ignore[index]
        put = httpx.put(part["url"], content=b"\0" * part["size"], timeout=60)
        assert put.status_code == 200, put.text
    return upload


def _s3_upload_id(fleet: ApiFleet, upload_id: str) -> str:
    key = f"{fleet.prefix}/_vodfleet/api/uploads/{upload_id}.json"
    record = json.loads(fleet.s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read())
    return str(record["s3_upload_id"])


def test_an_abandoned_upload_is_aborted_and_answers_410(replicas: Replicas) -> None:
    """An upload with one part in S3, left past the ttl: naming it (GET /uploads/{id}, and as a job source)
    answers 410 upload_expired, its multipart upload is gone from S3 and its record deleted."""
    with replicas.client(0) as client:
        upload = _start(client, put_first=True)
        upload_id = str(upload["upload_id"])
        s3_id = _s3_upload_id(replicas.fleet, upload_id)
        assert s3_id in _open_uploads(replicas.fleet)
        time.sleep(TTL + 0.5)
    with replicas.client(1) as client:
        gone = client.get(f"/uploads/{upload_id}")
        assert gone.status_code == 410, gone.text
        error = gone.json()["error"]
        assert error["code"] == "upload_expired" and "POST /uploads" in error["hint"]
        assert s3_id not in _open_uploads(replicas.fleet)
        assert not _record_exists(replicas.fleet, upload_id)
        again = client.get(f"/uploads/{upload_id}")
        assert again.status_code == 404, again.text


def test_the_sweep_expires_uploads_nobody_names_again(replicas: Replicas) -> None:
    """Two abandoned uploads, one per replica; after the ttl a POST /uploads on one replica sweeps both away
    (S3 multipart uploads aborted, records deleted) while the new upload stays."""
    with replicas.client(0) as first, replicas.client(1) as second:
        old = [_start(first, put_first=True), _start(second, put_first=False)]
        s3_ids = [_s3_upload_id(replicas.fleet, str(u["upload_id"])) for u in old]
        time.sleep(TTL + 0.5)
        fresh = _start(second, put_first=False)
    open_now = _open_uploads(replicas.fleet)
    assert not set(s3_ids) & open_now
    assert not any(_record_exists(replicas.fleet, str(u["upload_id"])) for u in old)
    assert _s3_upload_id(replicas.fleet, str(fresh["upload_id"])) in open_now

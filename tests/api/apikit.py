"""Helpers of the API tests: the fleet behind the API (fixtures: conftest.py), a direct upload through the API's
presigned URLs, waiting for a job."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fleet.seaweed_server import SeaweedServer  # tests/ is on sys.path (tests/conftest.py)
from fleetkit import vodfleet_argv

DRAFT = {"profile": "draft", "segment_seconds": 2, "measure_quality": False}


@dataclass
class ApiFleet:
    state: Path
    env: dict[str, str]
    s3: SeaweedServer
    prefix: str
    base: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # name → secret
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(vodfleet_argv(*args), env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.state / f"{name}.log").open("ab")
        proc = subprocess.Popen(vodfleet_argv(*args), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(proc)
        return proc

    def token(self, prefix: str, scope: str) -> str:
        done = self.cli("token", "create", "--prefix", prefix, "--scope", scope, "--json")
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["token"])

    def client(self, name: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.state.glob("*.log")))

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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

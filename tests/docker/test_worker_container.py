"""A containerized worker (the image, hardened: read-only root, uid 10001, no capabilities) takes a job from the
host's Redis, reads the master from the host's SeaweedFS S3 and publishes there; the report names its encoder."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path

import pytest
from docker_support import HARDENED, WorkerImage, queue_services
from fleet.seaweed_server import BUCKET, SeaweedServer

pytestmark = [pytest.mark.docker, pytest.mark.queue, pytest.mark.fleet]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")
SAMPLE = Path(__file__).resolve().parents[2] / "sample_media" / "bigbuckbunny.mp4"


def container_log(name: str) -> str:
    done = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=60, check=False)
    return done.stdout + done.stderr


def wait_ready(name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ready" in container_log(name):
            return
        running = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name], capture_output=True,
                                 text=True, timeout=30, check=False)
        if running.stdout.strip() != "true":
            pytest.fail(f"worker container exited:\n{container_log(name)[-4000:]}")
        time.sleep(0.5)
    pytest.fail(f"worker container not ready after {timeout} s:\n{container_log(name)[-4000:]}")


@pytest.mark.timeout(900)
def test_a_container_worker_takes_a_host_job_and_publishes_to_s3(
        worker_image: WorkerImage, redis_url: str, s3_server: SeaweedServer, tmp_path: Path,
        container_names: list[str]) -> None:
    prefix = f"docker-{secrets.token_hex(4)}"
    db = 14
    settings = {"broker_url": f"{redis_url}/{db}", "store_url": f"{redis_url}/{db}",
                "storage_uri": f"s3://{BUCKET}/{prefix}", "s3_endpoint_url": s3_server.endpoint,
                "s3_access_key": s3_server.access_key, "s3_secret_key": s3_server.secret_key}
    env_args = [arg for k, v in settings.items() for arg in ("-e", f"VODFLEET_{k.upper()}={v}")]
    name = f"vodfleet-test-{secrets.token_hex(4)}"
    container_names.append(name)
    started = time.monotonic()
    run = subprocess.run(["docker", "run", "-d", "--name", name, "--network", "host", *HARDENED, *env_args,
                          "-e", "VODFLEET_LEASE_TTL=5", worker_image.tag, "vodfleet", "worker", "--no-watchdog"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    wait_ready(name, 90)

    fleet_iter = queue_services.make_fleet(tmp_path, **settings)  # type: ignore[attr-defined]
    fleet = next(fleet_iter)
    try:
        # The submitter claims the image's encoder (the test/ops override): the job is pinned to the lock's
        # fingerprint whatever ffmpeg this host has, so only a worker of that image may take it.
        fleet.env["VODFLEET_FINGERPRINT_OVERRIDE"] = str(worker_image.lock["fingerprint"])
        done = fleet.cli("submit", str(SAMPLE), *DRAFT, "--wait", timeout=300)
        first_job = time.monotonic() - started
        assert done.returncode == 0, done.stderr + container_log(name)[-4000:]
        job = done.stdout.split()[0]
        record = json.loads(fleet.cli("status", job, "--json").stdout)
    finally:
        next(fleet_iter, None)
    assert record["state"] == "published"
    assert record["encoder"] == worker_image.lock["fingerprint"]
    log = container_log(name)
    assert f"encoder {worker_image.lock['fingerprint']}" in log and job in log

    client = s3_server.client()
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(  # type: ignore[attr-defined]
        Bucket=BUCKET, Prefix=prefix) for o in page.get("Contents", [])]
    reports = [k for k in keys if k.endswith("/report.json")]
    assert reports, keys
    report = json.loads(client.get_object(Bucket=BUCKET, Key=reports[0])["Body"].read())  # type: ignore[attr-defined]
    assert report["encoder"]["identity"] == worker_image.lock["identity"]
    assert report["encoder"]["fingerprint"] == worker_image.lock["fingerprint"]  # what names its queue and tag
    assert report["encoder"]["ffmpeg_version"] == worker_image.lock["ffmpeg_version"]
    print(f"\ncold start (docker run) to first job published: {first_job:.1f} s")

    stop = subprocess.run(["docker", "stop", "-t", "30", name], capture_output=True, timeout=90, check=False)
    assert stop.returncode == 0
    state = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", name], capture_output=True, text=True,
                           timeout=30, check=True)
    assert state.stdout.strip() == "0"  # warm shutdown on SIGTERM

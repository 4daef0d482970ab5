"""The worker image against a real engine: it builds, its encoder is the lock's, a changed lock fails the build,
and it runs hardened (non-root, read-only root, no capabilities) with a health check and OCI labels."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from docker_support import WorkerImage, build

pytestmark = pytest.mark.docker


def inspect(tag: str) -> dict[str, object]:
    done = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(done.stdout)[0]
    return result


def test_the_image_encoder_is_the_lock(worker_image: WorkerImage) -> None:
    done = worker_image.run("vodfleet", "doctor", "--local", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["local"]["fingerprint"] == worker_image.lock["fingerprint"]
    assert report["local"]["packages"] == worker_image.lock["packages"]
    assert report["problems"] == []


def test_labels_and_healthcheck(worker_image: WorkerImage) -> None:
    config = inspect(worker_image.tag)["Config"]
    assert isinstance(config, dict)
    labels = config["Labels"]
    assert labels["io.vodfleet.encoder.fingerprint"] == worker_image.lock["fingerprint"]
    assert labels["io.vodfleet.encoder.ffmpeg"] == worker_image.lock["ffmpeg_version"]
    assert labels["org.opencontainers.image.version"]
    assert labels["org.opencontainers.image.revision"] not in ("", "unknown")
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"] == ["CMD", "vodfleet", "doctor", "--health"]


def test_runs_as_non_root_on_a_read_only_root(worker_image: WorkerImage) -> None:
    done = worker_image.run("sh", "-c", "id -u; touch /opt/x 2>&1 || true; touch /tmp/ok && echo tmp-ok; "
                                        "touch /var/lib/vodfleet/ok && echo state-ok")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "10001"
    assert "Read-only file system" in done.stdout
    assert "tmp-ok" in lines and "state-ok" in lines


def test_health_check_passes_with_the_embedded_broker(worker_image: WorkerImage) -> None:
    done = worker_image.run("vodfleet", "doctor", "--health")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("healthy")


def test_ffmpeg_is_the_pinned_package(worker_image: WorkerImage) -> None:
    done = worker_image.run("dpkg-query", "-W", "-f", "${Version}", "ffmpeg")
    assert done.stdout == "7:" + str(worker_image.lock["ffmpeg_version"])


def test_a_changed_lock_fails_the_build(worker_image: WorkerImage, tmp_path: Path) -> None:
    lock = dict(worker_image.lock)
    lock["fingerprint"] = "sha256:" + "0" * 64
    lock["ffmpeg_version"] = "5.1.8-0+deb12u1"
    path = tmp_path / "encoder.lock"
    path.write_text(json.dumps(lock, indent=2))
    done = build({"VODFLEET_LOCK": str(path), "VODFLEET_IMAGE": "vodfleet/worker-badlock"})
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "ffmpeg version: expected 5.1.8-0+deb12u1, found 5.1.9-0+deb12u1" in output
    assert "DIFFERENT ENCODERS" in output
    missing = subprocess.run(["docker", "image", "inspect", "vodfleet/worker-badlock:latest"], capture_output=True,
                             check=False)
    assert missing.returncode != 0  # nothing tagged

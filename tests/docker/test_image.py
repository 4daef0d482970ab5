"""The worker image against a real engine: it builds, its encoder is the lock's, a changed lock fails the build,
and it runs hardened (non-root, read-only root, no capabilities) with a health check and OCI labels."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import m3u8
import pytest
from docker_support import REPO, WorkerImage, build
from mediagen import make_source

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


def test_compose_user_has_its_group_and_the_autoscaler_its_sdk(worker_image: WorkerImage) -> None:
    """compose runs the image as 10001:10001: that gid must exist (else Celery assumes root and warns about
    superuser privileges at every start); the compose `autoscaler` service runs this image (docker SDK)."""
    done = worker_image.run("python3", "-c", "import grp, docker.client; print(grp.getgrgid(10001).gr_name)",
                            options=("--user", "10001:10001"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "vodfleet"


def test_the_readme_laptop_command_works_for_a_normal_user(worker_image: WorkerImage, tmp_path: Path) -> None:
    """The README's `docker run … -v "$PWD/out:/out"` line, run as a normal user (uid 1000) would: out/ is
    theirs and the output lands in it (it failed with Permission denied while the container ran as 10001)."""
    readme = (REPO / "README.md").read_text()
    start = readme.index("mkdir -p out && docker run")
    command = readme[start:readme.index("\n", readme.index("vodfleet transcode", start))].split("#")[0]
    command = command.replace('"$(id -u):$(id -g)"', "1000:1000").replace("vodfleet/worker:latest", worker_image.tag)
    work = tmp_path / "laptop"
    (work / "sample_media").mkdir(parents=True)
    make_source(work / "sample_media" / "bigbuckbunny.mp4", duration=2.0)
    (work / "out").mkdir()  # what the command's `mkdir -p out` makes when that user runs it
    for path in (work, work / "out", work / "sample_media", work / "sample_media" / "bigbuckbunny.mp4"):
        os.chown(path, 1000, 1000)
    tmp_path.chmod(0o755)
    done = subprocess.run(["bash", "-c", command.replace("\\\n", " ")], cwd=work, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "PWD": str(work)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    master = work / "out" / "bbb" / "master.m3u8"
    assert master.stat().st_uid == 1000
    assert m3u8.loads(master.read_text()).playlists

"""A real Docker engine for the image tests, and the worker image built once per session.

No engine: skipped locally, FAILED in CI (CI=true), where the fixture first tries to start `dockerd` itself.
The image is built with docker/build.sh, which reuses the cached base (`vodfleet/debian-base:bookworm`) and
the layer cache, so a session after the first costs seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_support import IMAGE, IN_CI, REPO, WorkerImage, build, queue_services, unusable


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a real Docker engine (builds and runs the worker image)")


STARTED: list[subprocess.Popen[bytes]] = []  # an engine this session started: referenced until the process ends


def engine_ok(tries: int = 3) -> bool:
    """Whether `docker info` answers; asked `tries` times, as a busy engine can miss one 30 s timeout."""
    if shutil.which("docker") is None:
        return False
    for _ in range(tries):
        try:
            done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                                  text=True, timeout=30, check=False)
        except subprocess.TimeoutExpired:
            continue
        if done.returncode == 0:
            return True
    return False


def start_dockerd(log: Path) -> subprocess.Popen[bytes] | None:
    """CI only: start an engine when none answers (left running for the rest of the job)."""
    binary = shutil.which("dockerd")
    if binary is None:
        return None
    with log.open("wb") as out:
        proc = subprocess.Popen([binary], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    STARTED.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if engine_ok(tries=1):
            return proc
        time.sleep(0.5)
    return None


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not engine_ok() and (not IN_CI or start_dockerd(tmp_path_factory.mktemp("dockerd") / "dockerd.log") is None):
        unusable("no usable Docker engine (apt-get install -y docker.io docker-compose debootstrap; "
                     "start dockerd)")
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=30, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="session")
def worker_image(docker_engine: str) -> WorkerImage:
    if shutil.which("debootstrap") is None and subprocess.run(
            ["docker", "image", "inspect", "vodfleet/debian-base:bookworm"], capture_output=True,
            check=False).returncode != 0:
        unusable("no base image and no debootstrap to build it (apt-get install -y debootstrap)")
    started = time.monotonic()
    done = build()
    if done.returncode != 0:
        pytest.fail(f"docker/build.sh failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    lock = json.loads((REPO / "docker" / "encoder.lock").read_text())
    return WorkerImage(tag=f"{IMAGE}:enc-{str(lock['fingerprint']).removeprefix('sha256:')}", lock=lock,
                       build_seconds=time.monotonic() - started)


@pytest.fixture
def container_names() -> Iterator[list[str]]:
    """Names of containers a test starts; all removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60, check=False)


# --- the host's services (Redis, SeaweedFS S3) from tests/queue/conftest.py -----------------------------------

redis_url = queue_services.redis_url  # type: ignore[attr-defined]  # fixture, re-exported
s3_server = queue_services.s3_server  # type: ignore[attr-defined]  # fixture, re-exported

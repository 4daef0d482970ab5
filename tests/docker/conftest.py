"""A real Docker engine for the image tests, and the worker image built once per session.

No engine: skipped locally, FAILED in CI (CI=true), where the fixture first tries to start `dockerd` itself.
The image is built with docker/build.sh, which reuses the cached base (`vodfleet/debian-base:bookworm`) and
the layer cache, so a session after the first costs seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("VODFLEET_TEST_IMAGE", "vodfleet/worker")
BUILD_TIMEOUT = 3600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a real Docker engine (builds and runs the worker image)")


def unusable(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def engine_ok() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=30, check=False)
    return done.returncode == 0


def start_dockerd(log: Path) -> subprocess.Popen[bytes] | None:
    """CI only: start an engine when none answers (left running for the rest of the job)."""
    binary = shutil.which("dockerd")
    if binary is None:
        return None
    with log.open("wb") as out:
        proc = subprocess.Popen([binary], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if engine_ok():
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


def build(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "docker" / "build.sh")], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT, check=False, env={**os.environ, **(env or {})})


@dataclass(frozen=True)
class WorkerImage:
    tag: str
    lock: dict[str, object]
    build_seconds: float

    def run(self, *argv: str, options: tuple[str, ...] = (), timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`docker run --rm` hardened like the fleet: read-only root, tmpfs /tmp and state, no capabilities."""
        return subprocess.run(["docker", "run", "--rm", *HARDENED, *options, self.tag, *argv], capture_output=True,
                              text=True, timeout=timeout, check=False)


HARDENED = ("--read-only", "--tmpfs", "/tmp:rw,mode=1777", "--tmpfs", "/var/lib/vodfleet:rw,uid=10001,gid=10001",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


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


# --- the host's services (Redis, SeaweedFS S3) from tests/queue/conftest.py, loaded under another name -------

def _load_queue_services() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("vodfleet_queue_services", REPO / "tests" / "queue" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


queue_services: object = _load_queue_services()
redis_url = queue_services.redis_url  # type: ignore[attr-defined]  # fixture, re-exported
s3_server = queue_services.s3_server  # type: ignore[attr-defined]  # fixture, re-exported

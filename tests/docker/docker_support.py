"""Helpers of the Docker tests (a module of its own: test modules import it by this unique name)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("VODFLEET_TEST_IMAGE", "vodfleet/worker")
BUILD_TIMEOUT = 3600
HARDENED = ("--read-only", "--tmpfs", "/tmp:rw,mode=1777", "--tmpfs", "/var/lib/vodfleet:rw,uid=10001,gid=10001",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


def unusable(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def build(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "docker" / "build.sh")], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT, check=False,
                          env={**os.environ, "VODFLEET_IMAGE": IMAGE, **(env or {})})


@dataclass(frozen=True)
class WorkerImage:
    tag: str
    lock: dict[str, object]
    build_seconds: float

    def run(self, *argv: str, options: tuple[str, ...] = (), timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`docker run --rm` hardened like the fleet: read-only root, tmpfs /tmp and state, no capabilities."""
        return subprocess.run(["docker", "run", "--rm", *HARDENED, *options, self.tag, *argv], capture_output=True,
                              text=True, timeout=timeout, check=False)


def _load_queue_services() -> object:
    """tests/queue/conftest.py (Redis, SeaweedFS fixtures, make_fleet) under a name of its own."""
    spec = importlib.util.spec_from_file_location("vodfleet_queue_services", REPO / "tests" / "queue" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


queue_services: object = _load_queue_services()

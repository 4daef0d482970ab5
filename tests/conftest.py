"""Shared pytest setup: `tests/` on sys.path (for the `mediagen` helper) and session-wide fixtures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # tests/ is not a package; `import mediagen` needs this


# --- two test processes (pytest-xdist: `VODFLEET_TEST_PROCESSES=2 ./scripts/test`) ------------------------------
# tests/queue (real brokers and worker fleets: about half the suite's time) runs in one process, everything else in
# the other: each half's session fixtures (RabbitMQ, Redis, SeaweedFS, Chromium, the Docker images) start in one
# process only, and no two tests build the same Docker image at once. (A scheduler of our own: xdist 3.8's
# `--dist loadgroup` does not group under pytest 9.2, whose node ids no longer come from `item._nodeid`.)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class TwoHalves(LoadScopeScheduling):
        """Each scope goes whole to one process: tests/queue is one scope, the rest of the suite the other."""

        def _split_scope(self, nodeid: str) -> str:
            return "queue" if nodeid.startswith("tests/queue/") else "rest"

    return TwoHalves(config, log)


# --- probe (pipelines/probe.py) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_bbb() -> Path:
    """The committed 5.3 s 1280x720 H.264 + 5.1 AAC sample."""
    return TESTS_DIR.parent / "sample_media" / "bigbuckbunny.mp4"

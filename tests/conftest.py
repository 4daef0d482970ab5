"""Shared pytest setup: `tests/` on sys.path (for the `mediagen` helper) and session-wide fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # tests/ is not a package; `import mediagen` needs this


# --- two test processes (pytest-xdist, `./scripts/test` runs `-n 2 --dist loadgroup`) ---------------------
# tests/queue (real brokers and worker fleets: about half the suite's time) runs in one process, everything else in
# the other: each group's session fixtures (RabbitMQ, Redis, SeaweedFS, Chromium, the Docker images) start in one
# process only, and no two tests build the same Docker image at once.


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = "queue" if Path(str(item.path)).parent.name == "queue" else "rest"
        item.add_marker(pytest.mark.xdist_group(group))


# --- probe (pipelines/probe.py) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_bbb() -> Path:
    """The committed 5.3 s 1280x720 H.264 + 5.1 AAC sample."""
    return TESTS_DIR.parent / "sample_media" / "bigbuckbunny.mp4"

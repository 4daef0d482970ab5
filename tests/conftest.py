"""Shared pytest setup: `tests/` on sys.path (for the `mediagen` helper) and session-wide fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # tests/ is not a package; `import mediagen` needs this


# --- probe (pipelines/probe.py) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_bbb() -> Path:
    """The committed 5.3 s 1280x720 H.264 + 5.1 AAC sample."""
    return TESTS_DIR.parent / "sample_media" / "bigbuckbunny.mp4"

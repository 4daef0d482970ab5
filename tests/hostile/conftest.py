"""Hostile-corpus fixtures: a canary HTTP server on loopback, a canary FIFO, and the generated corpus."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from canary import Canary, Recorder
from corpus import FIFO_NAME, Case, build


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="session")
def canary(hostile_dir: Path) -> Iterator[Canary]:
    fifo = hostile_dir / FIFO_NAME
    with contextlib.suppress(FileExistsError):
        os.mkfifo(fifo)
    watch = Canary(Recorder(), fifo)
    watch.start()
    yield watch
    watch.stop()


@pytest.fixture(scope="session")
def corpus(hostile_dir: Path, canary: Canary) -> dict[str, Case]:
    return {case.name: case for case in build(hostile_dir, canary.url)}

"""The layers of ../shared/DESIGN.md ("The map as it grows"), held: each module imports only its own layer or
below, `pipelines` imports nothing of the fleet, and no two modules import each other (directly or round a loop).

    L0 errors, exitcodes, keys, settings, fingerprint (and pipelines) · L1 jobs · L2 store, storage ·
    L3 queue names/app/message/send, publish, metrics, webhooks · L4 delivery · L5 queue tasks/control/depth, intake,
    api · L6 cli, autoscale

The table and the import graph live in scripts/module_map.py (``python scripts/module_map.py`` prints them).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("module_map", ROOT / "scripts" / "module_map.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("module_map", module)
    spec.loader.exec_module(module)
    return module


module_map = _load()


@pytest.fixture(scope="module")
def edges() -> dict[str, set[str]]:
    return module_map.graph()


def test_no_import_goes_up_a_layer(edges: dict[str, set[str]]) -> None:
    assert module_map.violations(edges) == []


def test_pipelines_imports_nothing_of_the_fleet(edges: dict[str, set[str]]) -> None:
    forbidden = {(m, t) for m, ts in edges.items() if m.startswith("pipelines") for t in ts
                 if t.split(".")[0] in module_map.PIPELINES_FORBIDDEN}
    assert not forbidden


def test_no_import_cycles(edges: dict[str, set[str]]) -> None:
    assert module_map.cycles(edges) == []


def test_every_module_is_in_a_layer(edges: dict[str, set[str]]) -> None:
    assert [m for m in edges if module_map.layer_of(m) is None] == []


def test_top_level_holds_only_the_l0_modules_and_the_l6_entry_points() -> None:
    top = sorted(p.stem for p in (ROOT / "workers").glob("*.py"))
    assert top == ["__init__", "autoscale", "errors", "exitcodes", "fingerprint", "keys", "settings"]


@pytest.mark.parametrize(("module", "layer"), [
    ("workers.errors", 0), ("pipelines.transcode", 0), ("workers.jobs.state", 1), ("workers.store.sqlite", 2),
    ("workers.queue.names", 3), ("workers.queue.send", 3), ("workers.delivery.job", 4), ("workers.queue.tasks", 5),
    ("workers.metrics.exporter", 5), ("workers.cli.commands.submit", 6), ("workers.autoscale", 6),
])
def test_the_table_places_modules_by_longest_prefix(module: str, layer: int) -> None:
    assert module_map.layer_of(module) == layer


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"pipelines/__init__.py": "", "workers/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_an_import_from_a_higher_layer_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "workers/jobs/__init__.py": "", "workers/delivery/__init__.py": "",
        "workers/delivery/job.py": "from workers.jobs import state\n",
        "workers/jobs/state.py": "def f() -> None:\n    from workers.delivery.job import run  # lazy, still counted\n",
    })
    edges = module_map.graph(root)
    assert module_map.violations(edges) == ["workers.jobs.state (L1) imports workers.delivery.job (L4)"]
    assert module_map.cycles(edges) == [["workers.delivery.job", "workers.jobs.state"]]


def test_pipelines_importing_the_fleet_or_its_libraries_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pipelines/bad.py": "import boto3\nfrom workers import errors\n",
                            "workers/errors.py": ""})
    assert module_map.violations(module_map.graph(root)) == [
        "pipelines.bad imports boto3: pipelines imports nothing of the fleet",
        "pipelines.bad imports workers.errors: pipelines imports nothing of the fleet"]


def test_a_type_checking_import_counts(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pipelines/report.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from pipelines.transcode import P\n"),
        "pipelines/transcode.py": "from pipelines.report import build\n",
    })
    assert module_map.cycles(module_map.graph(root)) == [["pipelines.report", "pipelines.transcode"]]

"""bench/README.md's commands work as written for someone who followed it: they run the checkout's venv after the
dev install it names, every package the benches import comes with that install, and a runtime-only venv gets
a one-line message saying what to run instead of a traceback."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
README = (BENCH / "README.md").read_text()
# and the tests' helpers some benches borrow to start real servers (fleetkit's Redis, fleet.seaweed_server's S3)
LOCAL = {"pipelines", "workers", *(p.stem for p in BENCH.glob("*.py")),
         *(p.stem for p in (REPO / "tests").glob("*.py")), "fleet"}


def shell_lines() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_every_bench_command_runs_the_venv_after_the_dev_install() -> None:
    lines = shell_lines()
    runs = [line for line in lines if re.search(r"bench/\w+\.py", line)]
    assert runs
    assert all(line.startswith(".venv/bin/python bench/") for line in runs), runs
    assert lines.index("./scripts/bootstrap --test") < lines.index(runs[0])


def test_the_dev_install_provides_every_package_the_benches_import() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installed = {canonicalize_name(Requirement(r).name)
                 for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]}
    providers = packages_distributions()
    for script in BENCH.glob("*.py"):
        tree = ast.parse(script.read_text())
        modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for alias in node.names}
        modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        third_party = modules - set(sys.stdlib_module_names) - LOCAL
        for module in third_party:
            assert {canonicalize_name(d) for d in providers.get(module, [])} & installed, (script.name, module)


def test_without_the_dev_install_the_bench_says_what_to_run() -> None:
    """psutil hidden as in a runtime-only venv (`./scripts/bootstrap` without --test)."""
    code = ("import runpy, sys; sys.modules['psutil'] = None; sys.argv = ['bench_ladder.py', '--help']; "
            "runpy.run_path('bench/bench_ladder.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "./scripts/bootstrap --test" in done.stderr and ".venv/bin/python bench/bench_ladder.py" in done.stderr

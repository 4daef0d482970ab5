"""The distribution as an installer builds it: PEP 639 licence metadata (an SPDX expression and the licence file),
and no deprecation printed while building, with the build backend the build-system table names (offline: the
dev install puts that setuptools in the venv)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SPDX_SETUPTOOLS = "77"  # the first setuptools that reads `license` as an SPDX string and `license-files`


def test_the_license_is_an_spdx_expression_with_its_file() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert "Apache License" in (REPO / "LICENSE").read_text()[:200]
    [backend] = [Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert not backend.specifier.contains(f"{int(SPDX_SETUPTOOLS) - 1}.9"), backend  # never an older backend
    assert backend.specifier.contains(SPDX_SETUPTOOLS)


def test_building_the_wheel_prints_no_deprecation_and_carries_the_license(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    for package in ("pipelines", "workers"):
        shutil.copytree(REPO / package, src / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deprecat" not in (done.stdout + done.stderr).lower(), done.stderr
    [wheel] = (tmp_path / "dist").glob("vodfleet-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [metadata_name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        assert metadata["License-Expression"] == "Apache-2.0"
        assert metadata.get_all("License-File") == ["LICENSE"]
        assert metadata["License"] is None  # the deprecated free-text field is gone
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())

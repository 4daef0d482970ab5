"""docs/licences.md lists every package of the worker image's lock, at the locked version, with a licence."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _locked() -> dict[str, str]:
    text = (ROOT / "docker" / "requirements.lock").read_text(encoding="utf-8")
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", text, re.MULTILINE)}


def _documented() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "licences.md").read_text(encoding="utf-8")
    section = text.split("## Python packages", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")]
    return {row[0].lower(): (row[1], row[2]) for row in rows[1:]}  # after the header row


def test_every_locked_package_is_documented_with_its_version_and_licence() -> None:
    locked, documented = _locked(), _documented()
    assert set(documented) == set(locked), "update docs/licences.md: " + ", ".join(
        sorted(set(locked) ^ set(documented)))
    for name, version in locked.items():
        assert documented[name][0] == version, f"{name}: locked {version}, docs/licences.md says {documented[name][0]}"
        assert documented[name][1], f"{name}: no licence in docs/licences.md"


def test_the_copyleft_and_unclear_ones_are_explained() -> None:
    text = (ROOT / "docs" / "licences.md").read_text(encoding="utf-8")
    for name in ("cssutils", "encutils", "chardet"):
        assert f"**{name}" in text.split("### Copyleft or unclear", 1)[1]

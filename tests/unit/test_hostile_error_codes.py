"""Every error code raised in pipelines/ is documented, once, in docs/errors.md's one table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAISED = re.compile(r'\bcode(?:\s*:\s*str)?\s*=\s*"([a-z][a-z0-9_]*)"')
ROW = re.compile(r"^\| `([a-z][a-z0-9_]*)` \|", re.MULTILINE)


def raised_codes() -> set[str]:
    return {code for path in (ROOT / "pipelines").rglob("*.py")
            for code in RAISED.findall(path.read_text(encoding="utf-8"))}


def test_every_raised_code_is_in_the_table() -> None:
    documented = ROW.findall((ROOT / "docs" / "errors.md").read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "a code is listed twice"
    missing = raised_codes() - set(documented)
    assert not missing, f"add these codes to docs/errors.md: {sorted(missing)}"


def test_the_scan_finds_both_spellings() -> None:
    codes = raised_codes()
    assert {"source_format_refused", "output_too_large", "subtitle_too_complex"} <= codes  # code="..."
    assert {"scratch_unavailable", "pipeline_error"} <= codes  # class attribute code = "..."

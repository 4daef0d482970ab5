"""The benches' ``--json`` option, in one place: their figures as JSON on stdout or in a file."""

from __future__ import annotations

import json
from pathlib import Path


def write_json(figures: object, target: str | None) -> None:
    """Write `figures` as indented JSON: `target` ``-`` → stdout, a path → that file (UTF-8, final newline),
    None or empty → nothing (``--json`` not given)."""
    if not target:
        return
    text = json.dumps(figures, indent=2)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n", encoding="utf-8")

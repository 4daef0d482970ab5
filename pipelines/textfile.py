"""write_text_atomic: a text file written under a temporary name and renamed, so no reader sees half of it."""

from __future__ import annotations

from pathlib import Path

from pipelines.errors import ScratchError


def write_text_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8", newline="\n")
        temporary.replace(path)
    except OSError as exc:
        raise ScratchError(f"cannot write {path}: {exc}", hint="check free space and permissions") from exc

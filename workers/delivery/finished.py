"""A finished encode kept for the job's publish retries: a publish that fails (a storage outage, a killed upload)
is retried without encoding again.

    <scratch>/finished/<job id>/        the QC-passed output folder, moved here (one rename) before publishing
    <scratch>/finished/<job id>.json    {"job_id", "attempt": the attempt that encoded it, "at"}: written last

A retry of the job on a worker that sees this scratch volume publishes the kept folder (`kept_encode`); one on
another worker encodes again. The folder goes when the job ends (`drop_finished`, from the job's terminal
transitions) and a worker's sweep removes those of ended or unknown jobs (`sweep_finished`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from workers.jobs.state import TERMINAL
from workers.settings import Settings
from workers.store.base import JobStore


@dataclass(frozen=True)
class KeptEncode:
    output: Path  # the output folder, as the encode left it
    attempt: int  # the attempt that encoded it


def finished_root(settings: Settings) -> Path:
    return settings.scratch / "finished"


def keep_encode(output: Path, job_id: str, attempt: int, settings: Settings) -> Path:
    """Move a QC-passed output folder to the job's kept place (replacing an older one); return where it is."""
    root = finished_root(settings)
    drop_finished(job_id, settings)
    kept = root / job_id
    for _ in range(3):  # another job's drop_finished may remove the empty root between mkdir and rename
        root.mkdir(parents=True, exist_ok=True)
        try:
            output.rename(kept)
            break
        except FileNotFoundError:
            if not output.exists():
                raise
    else:
        output.rename(kept)
    marker = root / f"{job_id}.json"
    temp = root / f".{job_id}.json.tmp"
    temp.write_text(json.dumps({"job_id": job_id, "attempt": attempt, "at": time.time()}), encoding="utf-8")
    temp.replace(marker)
    return kept


def kept_encode(job_id: str, settings: Settings) -> KeptEncode | None:
    """The job's kept encode, if this scratch volume holds a complete one."""
    root = finished_root(settings)
    try:
        marker = json.loads((root / f"{job_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    folder = root / job_id
    if not isinstance(marker, dict) or marker.get("job_id") != job_id or not folder.is_dir():
        return None
    attempt = marker.get("attempt")
    return KeptEncode(folder, attempt if isinstance(attempt, int) else 0)


def drop_finished(job_id: str, settings: Settings) -> None:
    root = finished_root(settings)
    (root / f"{job_id}.json").unlink(missing_ok=True)  # the marker first: a half-removed folder is never reused
    shutil.rmtree(root / job_id, ignore_errors=True)
    with contextlib.suppress(OSError):  # the last one leaves no empty folder behind (not empty: stays)
        root.rmdir()


def sweep_finished(store: JobStore, settings: Settings) -> list[str]:
    """Remove the kept encodes of jobs that ended or are unknown; return their job ids."""
    root = finished_root(settings)
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if not entry.is_dir():
            continue
        record = store.get(entry.name)
        if record is None or record.state in TERMINAL:
            drop_finished(entry.name, settings)
            removed.append(entry.name)
    return removed

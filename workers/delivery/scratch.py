"""An attempt's scratch folder, named after its owner, and the sweep that removes the folders of dead attempts.

    <scratch>/vodfleet-job-<job id>-a<attempt>-<random>/           one attempt of a job
    <scratch>/vodfleet-part-<job id>-<index>-a<attempt>-<random>/  one attempt of a chunk part
        .vodfleet-owner.json   {"lease": <lease id>, "owner": <host:pid:random>, "attempt": n, "created": t}

The kernel removes its folder when the attempt ends; a SIGKILLed worker cannot. `sweep_scratch` (every worker,
at start and every watchdog interval) removes each such folder whose lease is not live for the owner its
marker names: a live lease is another worker's running attempt, on a scratch volume it may share, and is never
touched. A folder without its marker (the instant between mkdir and the marker's write) is left alone until it
is `UNMARKED_GRACE` seconds old.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from workers.store.base import JobStore

log = logging.getLogger(__name__)
FOLDER_PREFIX = "vodfleet-"
OWNER_FILE = ".vodfleet-owner.json"
UNMARKED_GRACE = 120.0  # seconds


def open_scratch(root: Path, prefix: str, *, lease_id: str, owner: str, attempt: int) -> Path:
    """A new folder ``<root>/<prefix>a<attempt>-<random>`` holding its owner marker."""
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}a{attempt}-", dir=root))
    marker = {"lease": lease_id, "owner": owner, "attempt": attempt, "created": time.time()}
    (folder / OWNER_FILE).write_text(json.dumps(marker), encoding="utf-8")
    return folder


def owner_of(folder: Path) -> tuple[str, str] | None:
    """(lease id, owner) from a scratch folder's marker, or None without a readable one."""
    try:
        marker = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or not isinstance(marker.get("lease"), str) or not isinstance(
            marker.get("owner"), str):
        return None
    return marker["lease"], marker["owner"]


def abandoned(owner: tuple[str, str] | None, age: float, leases: dict[str, str]) -> bool:
    """Whether a scratch folder is a dead attempt's (pure): its lease is not live for its owner (`leases`: live
    lease id → owner); an unmarked one only once older than `UNMARKED_GRACE` seconds."""
    if owner is None:
        return age > UNMARKED_GRACE
    lease, holder = owner
    return leases.get(lease) != holder


def sweep_scratch(store: JobStore, root: Path, *, now: float | None = None) -> list[str]:
    """Remove the scratch folders of attempts that hold no live lease; return their names.

    Markers are read first and the live leases after: an attempt takes its lease before it writes its marker,
    so a marker seen here belongs to a lease that the later read shows, if it is live."""
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    seen = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(FOLDER_PREFIX) and folder.is_dir():
            age = 0.0
            with contextlib.suppress(OSError):
                age = now - folder.stat().st_mtime
            seen.append((folder, owner_of(folder), age))
    if not seen:
        return []
    leases = store.leases()
    removed = []
    for folder, owner, age in seen:
        if abandoned(owner, age, leases):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
            log.warning("sweep: removed scratch %s of an attempt that holds no live lease", folder.name)
    return removed

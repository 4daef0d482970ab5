"""The embedded broker's ``processed/`` folder, pruned: kombu's filesystem transport moves each message file it
takes into ``<state>/broker/processed/`` (``store_processed``: the take is one rename on the same volume) and
never removes it. Nothing of the fleet reads them back after the delivery started, so a worker's sweep keeps
only the files younger than ``VODFLEET_BROKER_PROCESSED_KEEP`` seconds, and at most
``VODFLEET_BROKER_PROCESSED_MAX`` of those (the newest). The same sweep removes the temporary message files
of producers killed mid-write (`workers.queue.embedded`) once they are `STALE_TEMPORARY_SECONDS` old.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from workers.queue.app import broker_options
from workers.queue.embedded import stale_temporaries
from workers.settings import Settings

log = logging.getLogger(__name__)

STALE_TEMPORARY_SECONDS = 600.0  # a live producer renames its message file into place within milliseconds


@dataclass(frozen=True)
class Kept:
    name: str
    mtime: float  # unix time


def to_prune(files: list[Kept], *, now: float, keep_seconds: float, keep_at_most: int) -> list[str]:
    """Names of processed message files to remove (pure): older than `keep_seconds`, or past the newest
    `keep_at_most`."""
    newest_first = sorted(files, key=lambda f: f.mtime, reverse=True)
    young = [f for f in newest_first if now - f.mtime < keep_seconds][:keep_at_most]
    kept = {f.name for f in young}
    return sorted(f.name for f in files if f.name not in kept)


def prune_processed(settings: Settings, *, now: float) -> int:
    """Remove the embedded broker's old processed message files; return how many (0 for other brokers)."""
    folder = broker_options(settings).get("processed_folder")
    if folder is None or not Path(folder).is_dir():
        return 0
    files = []
    for path in Path(folder).iterdir():
        with contextlib.suppress(OSError):  # taken away meanwhile (another worker's prune)
            files.append(Kept(path.name, path.stat().st_mtime))
    removed = 0
    for name in to_prune(files, now=now, keep_seconds=settings.broker_processed_keep,
                         keep_at_most=settings.broker_processed_max):
        with contextlib.suppress(FileNotFoundError):
            (Path(folder) / name).unlink()
            removed += 1
    if removed:
        log.info("broker: %d processed message files pruned", removed)
    return removed + _sweep_temporaries(Path(broker_options(settings)["data_folder_in"]), now=now)


def _sweep_temporaries(queue: Path, *, now: float) -> int:
    entries = []
    for path in queue.iterdir() if queue.is_dir() else ():
        with contextlib.suppress(OSError):
            entries.append((path.name, path.stat().st_mtime))
    names = stale_temporaries(entries, now=now, older_than=STALE_TEMPORARY_SECONDS)
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            (queue / name).unlink()
    if names:
        log.warning("broker: %d message files left half-written by a killed producer removed", len(names))
    return len(names)

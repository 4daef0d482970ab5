"""The embedded broker's ``processed/`` folder, pruned: kombu's filesystem transport moves each message file it
takes into ``<state>/broker/processed/`` (``store_processed``: the take is one rename on the same volume) and
never removes it. Nothing of the fleet reads them back after the delivery started, so a worker's sweep keeps
only the files younger than ``VODFLEET_BROKER_PROCESSED_KEEP`` seconds, and at most
``VODFLEET_BROKER_PROCESSED_MAX`` of those (the newest).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from workers.queue.app import broker_options
from workers.settings import Settings

log = logging.getLogger(__name__)


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
    return removed

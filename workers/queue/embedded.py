"""The embedded broker's transport: kombu's filesystem transport, with message files that appear whole.

kombu's own ``_put`` opens the message file under its final name, then writes it. A consumer polling in between
(every 0.2 s) moves the still-empty file to ``processed/`` and fails to decode it: the message is gone, and its
job waits in ``queued`` until the watchdog sends it again (``VODFLEET_LOST_MESSAGE_AFTER``, 120 s). A burst of
submits against two polling workers hit it. Here a message is written under a name no consumer takes (a leading
dot and a ``.tmp`` suffix: kombu takes only ``<ts>_<uuid>.<queue>.msg``), flushed to disk, then renamed into the
queue folder: rename(2) within one folder is atomic (POSIX), so a consumer sees the whole message or nothing.

Selected by `workers.queue.app.create_app` for ``filesystem://`` broker URLs (Celery's ``broker_transport``,
`EMBEDDED_TRANSPORT`).
A producer killed mid-write leaves a ``.<name>.tmp`` file nobody reads; `stale_temporaries` names those for the
broker sweep (`workers.queue.processed`).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

TEMPORARY_SUFFIX = ".tmp"


def message_name(queue: str, *, now_ms: int, unique: str) -> str:
    """The file name kombu's filesystem transport reads as a message of `queue` (pure): ``<ms>_<uuid>.<queue>.msg``,
    ordered by the producer's monotonic clock as kombu's are."""
    return f"{now_ms}_{unique}.{queue}.msg"


def temporary_name(name: str) -> str:
    """Where message `name` is written before it is renamed into place (pure): skipped by every consumer and by
    `workers.queue.depth` (neither the ``<ts>_`` shape nor the ``.msg`` ending)."""
    return f".{name}{TEMPORARY_SUFFIX}"


def write_whole(folder: Path, name: str, data: bytes) -> None:
    """Write `data` as `folder`/`name` so that no reader ever sees it partly written (temporary file, fsync,
    rename). Raises OSError; the temporary file is removed on failure."""
    temp = folder / temporary_name(name)
    try:
        with temp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        temp.replace(folder / name)
    except OSError:
        temp.unlink(missing_ok=True)
        raise


def stale_temporaries(names: list[tuple[str, float]], *, now: float, older_than: float) -> list[str]:
    """Temporary message files (name, mtime in unix seconds) left by a producer killed mid-write (pure): those
    older than `older_than` seconds (a live producer renames its file within milliseconds)."""
    return sorted(n for n, mtime in names if n.startswith(".") and n.endswith(TEMPORARY_SUFFIX)
                  and now - mtime > older_than)


class Channel(filesystem.Channel):
    """kombu's filesystem channel; only the write of a message differs (see the module docstring)."""

    # (the stubs of kombu's two bases disagree on the second parameter's name; this is the filesystem one's)
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = message_name(queue, now_ms=round(monotonic() * 1000), unique=str(uuid.uuid4()))
        folder = Path(self.data_folder_out)
        try:
            write_whole(folder, name, dumps(payload).encode("utf-8"))
        except OSError as exc:
            raise ChannelError(f"cannot add the message file {name!r} to the broker folder {folder}") from exc


class Transport(filesystem.Transport):
    """kombu's filesystem transport with `Channel`."""

    Channel = Channel

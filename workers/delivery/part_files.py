"""Where chunk tasks leave their output for the stitch: ``_chunks/<job id>/<part>/…`` in the fleet storage.

Each part uploads its folder (`pipelines.chunk_encode`'s layout: ``chunk_0003/video/<rung>/…`` or
``audio/…``); the stitch task downloads ``_chunks/<job id>/`` whole into one local root, checks it and
publishes; then the prefix is deleted, as it is when the job fails or is cancelled. Nothing under
``_chunks/`` is ever a published output: players read only what `workers.publish.protocol` wrote.

A re-run part writes the same keys again (the names are a function of the plan), so an attempt killed
mid-upload leaves nothing behind that the next attempt does not overwrite.
"""

from __future__ import annotations

import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipelines.chunk_encode import chunk_folder_name
from workers.errors import StorageError
from workers.keys import join_key
from workers.storage.base import Storage

log = logging.getLogger(__name__)
WORK_ROOT = "_chunks"
PARALLEL = 8


def work_prefix(job_id: str) -> str:
    return join_key(WORK_ROOT, job_id)


def part_prefix(job_id: str, index: int) -> str:
    return join_key(work_prefix(job_id), chunk_folder_name(index))


def _files(folder: Path) -> list[str]:
    return sorted(Path(d, n).relative_to(folder).as_posix() for d, _, names in os.walk(folder) for n in names)


def upload_part(storage: Storage, folder: Path, prefix: str) -> int:
    """Upload every file under `folder` to `prefix`/<relative path>; return the bytes sent."""
    names = _files(folder)
    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="chunk-upload") as pool:
        return sum(pool.map(lambda name: storage.put_file(join_key(prefix, name), folder / name).size, names))


def download_work(storage: Storage, job_id: str, dest: Path) -> int:
    """Download every object under the job's work prefix into `dest` (same relative paths); return a count."""
    prefix = work_prefix(job_id) + "/"
    keys = [info.key for info in storage.list(prefix)]

    def one(key: str) -> None:
        relative = Path(*key.removeprefix(prefix).split("/"))  # validated keys: no "..", no absolute parts
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        storage.get_file(key, target)

    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="chunk-download") as pool:
        list(pool.map(one, keys))
    return len(keys)


def discard_work(storage: Storage, job_id: str) -> int:
    """Delete the job's work prefix (best effort: a failure is logged, the next discard retries)."""
    deleted = 0
    with contextlib.suppress(StorageError):
        for info in list(storage.list(work_prefix(job_id) + "/")):
            storage.delete(info.key)
            deleted += 1
        storage.abort_incomplete_uploads(work_prefix(job_id) + "/")
    if deleted:
        log.info("job %s: %d chunk objects discarded", job_id, deleted)
    return deleted

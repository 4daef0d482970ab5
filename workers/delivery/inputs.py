"""Fetch a job's inputs (master, sidecars) from storage to local scratch: ffmpeg never reads a URL.

Chunk tasks of one job all need the master; `cached_master` keeps one copy per job and worker under
``<scratch>/masters/<job id>/`` (downloaded to a temporary name, then renamed: a reader never sees half a
file), and `sweep_masters` removes the copies of jobs that ended (every task start and the stitch do).
`named_as_submitted` keeps those local names out of the errors a job records.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import FileRejected
from workers.jobs.state import TERMINAL
from workers.keys import parse_s3_uri
from workers.metrics import worker as metrics
from workers.settings import Settings
from workers.storage import storage_for
from workers.storage.base import Storage, scratch_full
from workers.store.base import JobStore

log = logging.getLogger(__name__)
JOB_FOLDER_PREFIX = "job-"


def fetch(uri: str, folder: Path, settings: Settings, storage: Storage) -> Path:
    """Copy `uri` (s3://bucket/key, or a key of the fleet storage) to folder/<its name>; return that path."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        full_disk = scratch_full(exc, uri, folder / "x")
        if full_disk is None:
            raise
        raise full_disk from exc
    if uri.startswith("s3://"):
        bucket, key = parse_s3_uri(uri)
        storage = storage_for(settings, f"s3://{bucket}")
    else:
        key = uri
    path = folder / key.rsplit("/", 1)[-1]
    metrics.record_fetched(storage.get_file(key, path).size)
    return path


@contextmanager
def named_as_submitted(fetched: Mapping[Path, str]) -> Iterator[None]:
    """Re-raise a `FileRejected` about a fetched local copy (``fetched``: local path → the URI or fleet key the
    job names) as the same error naming the file as it was submitted: the user never saw this worker's scratch
    path, and a stored failure must say which of their files is bad. Other errors pass unchanged."""
    try:
        yield
    except FileRejected as exc:
        local = next((path for path in fetched if str(path) == exc.path), None)
        if local is None:
            raise
        submitted = fetched[local]
        raise type(exc)(submitted, exc.what.replace(str(local), submitted), hint=exc.hint, code=exc.code) from exc


def masters_folder(settings: Settings) -> Path:
    return settings.scratch / "masters"


def cached_master(job_id: str, uri: str, settings: Settings, storage: Storage) -> Path:
    """The job's master on local disk, fetched once per worker (validated job id: a safe folder name)."""
    folder = masters_folder(settings) / job_id
    path = folder / uri.rsplit("/", 1)[-1]
    if path.is_file():
        return path
    temp = folder / f".part-{uuid.uuid4().hex}"
    try:
        fetched = fetch(uri, temp, settings, storage)
        fetched.replace(path)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return path


def drop_master(job_id: str, settings: Settings) -> None:
    shutil.rmtree(masters_folder(settings) / job_id, ignore_errors=True)


def sweep_masters(store: JobStore, settings: Settings) -> list[str]:
    """Remove cached masters of jobs that are finished or unknown; return their ids."""
    root = masters_folder(settings)
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.name.startswith(JOB_FOLDER_PREFIX):
            continue
        record = store.get(folder.name)
        if record is None or record.state in TERMINAL:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed

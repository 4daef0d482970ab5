"""The drop-folder watcher (effects): list the folder, ask `workers.intake.watch_plan` what is ready, submit it.

Each ready master goes through the ordinary submission path (`workers.intake.submit.submit`), so its job id is
the same as `vodfleet submit` would give, and submitting twice is a no-op. Then a marker
``.vodfleet/<name>.<content id>.json`` is written create-only beside it: after a restart (or an encoder
upgrade, which changes job ids) a master with a marker is never submitted again. The order matters: submit,
then mark; a watcher killed in between re-submits on its next start, which finds the existing job.

The listing is raw (names that are not valid keys are seen, so they can be reported once): S3 through
``list_objects_v2`` (ETag as listed); a local folder through ``os.walk`` (size + mtime as the change
signal, so nothing is hashed until a master is stable and uploaded).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.tools import Tools
from workers.errors import PreconditionFailed
from workers.intake.submit import remote_identity, safe_name, source_duration, submit, upload
from workers.intake.watch_plan import Entry, Ready, WatchPlan, plan
from workers.jobs.spec import InputIdentity, JobSpec, SubtitleRef
from workers.queue.app import FleetApp
from workers.settings import Settings
from workers.storage import LocalStorage, S3Storage, storage_for
from workers.storage.base import Storage
from workers.storage.local import TEMP_MARK
from workers.storage.s3 import BOTO_ERRORS
from workers.storage.s3_errors import translate
from workers.store.base import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Template:
    """What every job from this folder shares (the rest of JobSpec comes from the files)."""

    ladder: str = "default"
    profile: str = "fast"
    segment_seconds: int = 6
    measure_quality: bool = True
    priority: int = 5
    output_root: str = "outputs"
    webhook: str | None = None


def raw_listing(storage: Storage) -> dict[str, Entry]:
    """Every object under the storage's root, keyed by its relative key (unsafe names included)."""
    if isinstance(storage, S3Storage):
        return _s3_listing(storage)
    if isinstance(storage, LocalStorage):
        return _local_listing(storage.root)
    return {i.key: Entry(i.key, i.size, i.etag) for i in storage.list("")}


def _s3_listing(storage: S3Storage) -> dict[str, Entry]:
    prefix = f"{storage.prefix}/" if storage.prefix else ""
    found: dict[str, Entry] = {}
    try:
        for page in storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"].removeprefix(prefix)
                found[key] = Entry(key, int(item["Size"]), str(item.get("ETag", "")).strip('"'))
    except BOTO_ERRORS as exc:
        raise translate(exc, operation="list", target=f"{storage.uri}/") from exc
    return found


def _local_listing(root: Path) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not Path(directory, d).is_symlink()]
        for name in filenames:
            path = Path(directory, name)
            if TEMP_MARK in name or path.is_symlink():
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            key = path.relative_to(root).as_posix()
            found[key] = Entry(key, stat.st_size, f"{stat.st_mtime_ns}-{stat.st_size}")
    return found


class Watcher:
    """One watched folder. `poll` lists once, submits what is ready and returns the plan it acted on."""

    def __init__(self, folder: Storage, settings: Settings, store: JobStore, app: FleetApp, tools: Tools,
                 template: Template, *, say: Callable[[str], None] = print) -> None:
        self.folder, self.settings, self.store, self.app = folder, settings, store, app
        self.fleet_storage = storage_for(settings)
        self.tools, self.template, self.say = tools, template, say
        self._previous: dict[str, Entry] | None = None
        self._reported: set[tuple[str, str]] = set()
        self.submitted: list[str] = []  # job ids, in order (created or found)

    def poll(self) -> WatchPlan:
        current = raw_listing(self.folder)
        decided = plan(self._previous, current)
        self._previous = current
        for key, reason in decided.rejected:
            if (key, reason) not in self._reported:
                self._reported.add((key, reason))
                self.say(f"ignored {key!r}: {reason}")
        for orphan in decided.orphans:
            if (orphan, "orphan") not in self._reported:
                self._reported.add((orphan, "orphan"))
                self.say(f"waiting for the master of sidecar {orphan!r}")
        for ready in decided.ready:
            self._submit(ready)
        return decided

    def _submit(self, ready: Ready) -> None:
        uri, identity, local = self._input(ready.master.key)
        subs = [(s, *self._input(s.key)[:2]) for s in ready.sidecars]
        t = self.template
        refs = tuple(SubtitleRef(language=s.language, uri=u, forced=s.forced, sdh=s.sdh) for s, u, _ in subs)
        spec = JobSpec(source=uri, subtitles=refs,
                       ladder=t.ladder, profile=t.profile, segment_seconds=t.segment_seconds,
                       measure_quality=t.measure_quality, priority=t.priority, webhook=t.webhook,
                       output_prefix="/".join([t.output_root, *(safe_name(p) for p in ready.name.split("/"))]))
        done = submit(self.app, self.store, spec, (identity, *(i for _, _, i in subs)),
                      duration=source_duration(local, self.tools), force=False, tools=self.tools)
        record = done.record
        self.submitted.append(record.job_id)
        marker = {"job_id": record.job_id, "master": ready.master.key, "size": ready.master.size,
                  "etag": ready.master.etag, "sidecars": {s.track: s.key for s in ready.sidecars},
                  "submitted": time.time()}
        try:
            self.folder.put_bytes(ready.marker, json.dumps(marker, indent=2).encode(),
                                  content_type="application/json", if_none_match=True)
        except PreconditionFailed:
            log.info("marker %s exists (another watcher got there first)", ready.marker)
        state = "submitted" if done.created else f"already known ({record.state})"
        self.say(f"{ready.master.key}: {record.job_id} {state}"
                 + (f" with sidecars {', '.join(s.track for s in ready.sidecars)}" if ready.sidecars else ""))

    def _input(self, key: str) -> tuple[str, InputIdentity, Path | None]:
        """(uri a worker can fetch, identity, local path) of one watched object."""
        if isinstance(self.folder, S3Storage):
            full = f"{self.folder.prefix}/{key}" if self.folder.prefix else key
            uri = f"s3://{self.folder.bucket}/{full}"
            return uri, remote_identity(uri, self.fleet_storage, settings=self.settings), None
        if isinstance(self.folder, LocalStorage):
            path = self.folder.root / key
            fleet_key, identity = upload(path, self.fleet_storage)
            return fleet_key, identity, path
        raise TypeError(f"cannot watch {self.folder!r}")

"""Publishing a finished output folder to storage so that a job becomes visible only when complete.

Protocol for ``publish(folder, storage, "titles/ep1", job_id="j42", attempt=2)``:

1. **Already published?** If ``titles/ep1/jobs/j42.json`` (the job's commit record) exists, another attempt
   published the job: make sure ``live.json`` points at least at that version (rolling forward an attempt
   killed between commit and pointer) and return it with ``reused=True``. Nothing is uploaded.
2. **Claim a version**: ``titles/ep1/claims/v0007.json`` is written create-only (If-None-Match) with this
   attempt's random token; a lost race moves on to v0008. Each attempt therefore owns its folder: two
   attempts never interleave bytes in one version.
3. **Upload** the folder under ``titles/ep1/v0007/`` in the phases of `workers.publish.plan`: media, then
   playlists, then masters (master.m3u8, manifest.mpd, report.json), each phase in parallel (bounded by
   `parallel`) and started only when the previous one completed. Before the masters, the commit record is
   checked so a loser stops early.
4. **Commit**: ``titles/ep1/jobs/j42.json`` is written create-only. The one attempt whose write succeeds
   has published the job; a loser gets `PreconditionFailed`, deletes its own version (masters first, so no
   reader ever sees a master naming a deleted object) and uploaded nothing reachable.
5. **Point**: ``titles/ep1/live.json`` names the version; written last. Readers resolve through it
   (`read_live`), so they see the previous version or the new complete one, never a partial one. The
   pointer never moves back to an older version number.

On any failure the attempt's incomplete multipart uploads under its version are aborted and the error is
re-raised; its partial version stays unreferenced (masters go last, so it contains no master naming a
missing object) for the version sweep (`workers.publish.sweep`) to collect once its claim is older than a grace
period. A killed attempt leaves the same state, and a retry just claims the next version: no lease, no clock, no
waiting. An attempt whose claim was swept meanwhile (it was frozen past the grace period) withdraws before its
masters and commit.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workers.errors import ObjectNotFound, OutputInvalid, PreconditionFailed, StorageError
from workers.keys import join_key, validate_prefix
from workers.publish.plan import (
    PhasePlan,
    Upload,
    claim_key,
    job_key,
    live_key,
    next_version,
    plan_publish,
    version_key,
    version_name,
    version_number,
)
from workers.publish.sweep import claim_swept
from workers.storage.base import Storage

MAX_CLAIM_TRIES = 32
JSON = "application/json"


@dataclass(frozen=True)
class PublishResult:
    job_id: str
    attempt: int
    version: str  # "v0007"
    version_prefix: str  # "titles/ep1/v0007"
    live_key: str  # "titles/ep1/live.json"
    master_key: str | None  # "titles/ep1/v0007/master.m3u8"
    dash_key: str | None  # "titles/ep1/v0007/manifest.mpd"
    objects: int
    bytes: int
    seconds: float
    reused: bool = False  # the job had been published by another attempt; nothing uploaded now
    live: bool = True  # live.json names this version (False if a newer version was already live)
    storage_uri: str = ""  # the storage's uri ("s3://bucket/base" or "file:///folder")

    @property
    def location(self) -> str:
        """Where the version lives: ``s3://bucket/base/titles/ep1/v0007`` (or a file:// URI)."""
        return f"{self.storage_uri.rstrip('/')}/{self.version_prefix}"


@dataclass(frozen=True)
class LivePointer:
    version: str
    job_id: str
    attempt: int
    master: str | None  # relative to the title prefix: "v0007/master.m3u8"
    dash: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(value: dict[str, object]) -> bytes:
    return json.dumps(value, sort_keys=True, indent=1).encode("utf-8")


def _folder_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise OutputInvalid(f"output folder {folder} does not exist", hint="publish a finished output folder")
    files = []
    for directory, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            if Path(directory, name).is_symlink():
                raise OutputInvalid(f"output folder contains a symbolic link: {Path(directory, name)}",
                                    hint="outputs hold plain files only")
        files += [Path(directory, name).relative_to(folder).as_posix() for name in filenames]
    return files


def read_live(storage: Storage, prefix: str) -> LivePointer | None:
    """The live version of a title (None before its first publish)."""
    try:
        data = json.loads(storage.get_bytes(live_key(validate_prefix(prefix))))
    except ObjectNotFound:
        return None
    return LivePointer(version=data["version"], job_id=data["job_id"], attempt=data["attempt"],
                       master=data.get("master"), dash=data.get("dash"))


def _read_json(storage: Storage, key: str) -> dict[str, object] | None:
    try:
        value = json.loads(storage.get_bytes(key))
    except ObjectNotFound:
        return None
    return value if isinstance(value, dict) else None


def publish(local_output: Path, storage: Storage, prefix: str, *, job_id: str, attempt: int,
            parallel: int = 8, on_phase: Callable[[str], None] | None = None) -> PublishResult:
    """Upload a finished output folder as a new version of `prefix`; see the module docstring. `on_phase` is told
    each phase's name ("media", "playlists", "masters") once it is uploaded."""
    started = time.monotonic()
    prefix = validate_prefix(prefix)
    commit_key = job_key(prefix, job_id)
    if attempt < 1 or parallel < 1:
        raise OutputInvalid(f"attempt ({attempt}) and parallel ({parallel}) must be at least 1")
    phases = plan_publish(_folder_files(local_output))

    committed = _read_json(storage, commit_key)
    if committed is not None:
        return _roll_forward(storage, prefix, committed, phases, started)

    token = secrets.token_hex(16)
    version = _claim_version(storage, prefix, job_id=job_id, attempt=attempt, token=token)
    base = version_key(prefix, version)
    uploaded: list[str] = []
    try:
        sizes = _upload_and_commit(storage, local_output, prefix, version, phases, job_id=job_id,
                                   attempt=attempt, token=token, parallel=parallel, done=uploaded,
                                   on_phase=on_phase)
    except PreconditionFailed as lost:
        _withdraw(storage, prefix, version, phases)
        winner = _read_json(storage, commit_key)
        if winner is None:
            raise
        raise PreconditionFailed(
            f"job {job_id} attempt {attempt} lost: attempt {winner.get('attempt', '?')} published it as "
            f"{winner.get('version', '?')}", hint="another attempt of this job won; nothing of this one is "
            "visible") from lost
    except BaseException:
        _abort_uploads(storage, base)
        raise
    live = _point_live(storage, prefix, version=version, job_id=job_id, attempt=attempt, phases=phases)
    return _result(storage, prefix, version, job_id=job_id, attempt=attempt, phases=phases, objects=len(uploaded),
                   size=sizes, started=started, reused=False, live=live)


def _upload_and_commit(storage: Storage, folder: Path, prefix: str, version: str, phases: tuple[PhasePlan, ...],
                       *, job_id: str, attempt: int, token: str, parallel: int, done: list[str],
                       on_phase: Callable[[str], None] | None = None) -> int:
    """Steps 3 and 4: the phases in order, then the create-only commit record; return the bytes sent."""
    commit_key, base, sizes = job_key(prefix, job_id), version_key(prefix, version), 0
    for plan in phases:
        if plan.phase.value == "masters" and _read_json(storage, commit_key) is not None:
            raise PreconditionFailed(f"job {job_id} was published by another attempt while attempt "
                                     f"{attempt} uploaded {version}")
        if plan.phase.value == "masters" and claim_swept(storage, prefix, version):
            raise PreconditionFailed(f"job {job_id} attempt {attempt}: its version {version} was swept as "
                                     "abandoned while it uploaded", hint="the attempt ran past the claim grace "
                                     "period (VODFLEET_CLAIM_GRACE); its retry publishes a new version")
        sizes += _upload_phase(storage, folder, base, plan, parallel=parallel, done=done)
        if on_phase is not None:
            on_phase(plan.phase.value)
    record: dict[str, object] = {"job_id": job_id, "attempt": attempt, "token": token, "version": version,
                                 "objects": len(done), "bytes": sizes, "committed_at": _now()}
    storage.put_bytes(commit_key, _json(record), content_type=JSON, if_none_match=True)
    return sizes


def _result(storage: Storage, prefix: str, version: str, *, job_id: str, attempt: int, phases: tuple[PhasePlan, ...],
            objects: int, size: int, started: float, reused: bool, live: bool) -> PublishResult:
    names = {upload.relative for plan in phases for upload in plan.uploads}
    return PublishResult(
        job_id=job_id, attempt=attempt, version=version, version_prefix=version_key(prefix, version),
        live_key=live_key(prefix),
        master_key=version_key(prefix, version, "master.m3u8") if "master.m3u8" in names else None,
        dash_key=version_key(prefix, version, "manifest.mpd") if "manifest.mpd" in names else None,
        objects=objects, bytes=size, seconds=time.monotonic() - started, reused=reused, live=live,
        storage_uri=storage.uri)


def _claim_version(storage: Storage, prefix: str, *, job_id: str, attempt: int, token: str) -> str:
    claims_prefix = join_key(prefix, "claims") + "/"
    number = next_version(info.key.rpartition("/")[2] for info in storage.list(claims_prefix))
    for _ in range(MAX_CLAIM_TRIES):
        version = version_name(number)
        claim = {"version": version, "job_id": job_id, "attempt": attempt, "token": token, "claimed_at": _now()}
        try:
            storage.put_bytes(claim_key(prefix, version), _json(claim), content_type=JSON, if_none_match=True)
        except PreconditionFailed:
            number += 1
            continue
        return version
    raise PreconditionFailed(f"could not claim a version of {prefix!r} in {MAX_CLAIM_TRIES} tries",
                             hint="many publishers are racing on this title; retry later")


def _upload_phase(storage: Storage, folder: Path, base: str, plan: PhasePlan, *, parallel: int,
                  done: list[str]) -> int:
    """Upload one phase with bounded concurrency; on the first failure cancel the rest and raise it."""

    def one(upload: Upload) -> int:
        info = storage.put_file(join_key(base, upload.relative), folder / upload.relative,
                                content_type=upload.content_type)
        done.append(upload.relative)
        return info.size

    with ThreadPoolExecutor(max_workers=min(parallel, len(plan.uploads)),
                            thread_name_prefix=f"publish-{plan.phase.value}") as pool:
        futures: list[Future[int]] = [pool.submit(one, upload) for upload in plan.uploads]
        finished, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            error = None if future.cancelled() or not future.done() else future.exception()
            if error is not None:
                raise error
    return sum(future.result() for future in finished)


def _abort_uploads(storage: Storage, base: str) -> None:
    with contextlib.suppress(StorageError):  # best effort: the original error matters more
        storage.abort_incomplete_uploads(base + "/")


def _withdraw(storage: Storage, prefix: str, version: str, phases: tuple[PhasePlan, ...]) -> None:
    """Delete a losing attempt's version, masters first, then its claim (best effort)."""
    base = version_key(prefix, version)
    _abort_uploads(storage, base)
    try:
        for plan in reversed(phases):
            for upload in plan.uploads:
                storage.delete(join_key(base, upload.relative))
        storage.delete(claim_key(prefix, version))
    except StorageError:
        pass


def _point_live(storage: Storage, prefix: str, *, version: str, job_id: str, attempt: int,
                phases: tuple[PhasePlan, ...]) -> bool:
    """Write live.json naming `version` unless a newer version is live already; True if it is live now."""
    current = read_live(storage, prefix)
    if current is not None and (version_number(current.version) or 0) > (version_number(version) or 0):
        return False
    if current is not None and current.version == version:
        return True
    names = {upload.relative for plan in phases for upload in plan.uploads}
    pointer: dict[str, object] = {
        "version": version, "job_id": job_id, "attempt": attempt, "published_at": _now(),
        "master": f"{version}/master.m3u8" if "master.m3u8" in names else None,
        "dash": f"{version}/manifest.mpd" if "manifest.mpd" in names else None,
    }
    storage.put_bytes(live_key(prefix), _json(pointer), content_type=JSON)
    return True


def _roll_forward(storage: Storage, prefix: str, committed: dict[str, object],
                  phases: tuple[PhasePlan, ...], started: float) -> PublishResult:
    version, job_id, attempt = str(committed["version"]), str(committed["job_id"]), committed["attempt"]
    if not isinstance(attempt, int):
        raise OutputInvalid(f"commit record of job {job_id} is malformed", hint=str(committed))
    live = _point_live(storage, prefix, version=version, job_id=job_id, attempt=attempt, phases=phases)
    objects, size = committed.get("objects", 0), committed.get("bytes", 0)
    return _result(storage, prefix, version, job_id=job_id, attempt=attempt, phases=phases,
                   objects=objects if isinstance(objects, int) else 0, size=size if isinstance(size, int) else 0,
                   started=started, reused=True, live=live)


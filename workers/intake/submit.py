"""Submission: turn a request from the command line into a stored, queued job (the effects side of submit).

Local files go to the fleet storage first (``masters/<sha256>/<name>``; skipped when already there), so a
worker anywhere can fetch them. The job id comes from the inputs' identity, the spec and the encoder:
the same submission twice returns the existing job; ``force`` creates the next revision.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import ConfigError, PipelineError, SourceRejected
from workers.errors import ObjectNotFound
from workers.fingerprint import local as local_fingerprint
from workers.fingerprint import local_cached
from workers.jobs.spec import InputIdentity, JobSpec, job_id
from workers.jobs.state import JobRecord, JobState, Transition
from workers.keys import parse_s3_uri
from workers.settings import Settings
from workers.storage import storage_for
from workers.storage.base import Storage
from workers.storage.digest import digest_file
from workers.store.base import JobStore

if TYPE_CHECKING:  # planning and Celery load when a local master is planned / a job is sent (`submit`'s start-up)
    from pipelines.chunk import ChunkPolicy
    from pipelines.options import PlanOptions
    from pipelines.tools import Tools
    from workers.queue.app import FleetApp

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
MAX_REVISIONS = 1000


def safe_name(name: str) -> str:
    """A file name → one safe key segment (pure)."""
    cleaned = _UNSAFE.sub("_", name).lstrip("-.") or "file"
    return cleaned[:200]


@dataclass(frozen=True)
class Submitted:
    record: JobRecord
    created: bool
    resent: bool = False  # an existing job not started yet: its message was sent again


def upload(path: Path, storage: Storage) -> tuple[str, InputIdentity]:
    """Put a local file into the fleet storage (once per content); return (key, identity)."""
    if not path.is_file():
        raise SourceRejected(str(path), "does not exist or is not a file", hint="check the path")
    digests = digest_file(path)
    key = f"masters/{digests.sha256_hex[:32]}/{safe_name(path.name)}"
    info = storage.head(key)
    if info is None or info.size != digests.size:
        info = storage.put_file(key, path)
    return key, InputIdentity(uri=key, size=info.size, etag=info.etag, version=info.version)


def remote_identity(uri: str, storage: Storage, *, settings: Settings) -> InputIdentity:
    if uri.startswith("s3://"):
        bucket, key = parse_s3_uri(uri)
        storage = storage_for(settings, f"s3://{bucket}")
    else:
        key = uri
    info = storage.head(key)
    if info is None:
        raise ObjectNotFound(f"{uri} does not exist", hint="upload it first or pass a local file")
    return InputIdentity(uri=uri, size=info.size, etag=info.etag, version=info.version)


def local_path(ref: str) -> Path | None:
    """A source/sidecar as typed → its local path, or None for an s3:// URI or a fleet key (`key:KEY`) (pure)."""
    return None if ref.startswith(("s3://", "key:")) else Path(ref)


def resolve(ref: str, storage: Storage, *, settings: Settings) -> tuple[str, InputIdentity, Path | None]:
    """A source/sidecar as typed (local path, s3:// URI or fleet key) → (uri, identity, local path)."""
    path = local_path(ref)
    if path is None:
        uri = ref.removeprefix("key:")
        return uri, remote_identity(uri, storage, settings=settings), None
    key, identity = upload(path, storage)
    return key, identity, path


def preflight(path: Path, *, ladder: str, options: PlanOptions, chunks: ChunkPolicy | None,
              tools: Tools) -> float | None:
    """Probe and plan a local master before it is uploaded, with the calls the worker makes (pure planning after
    one ffprobe): an option planning refuses (a chunk count that would cut chunks under the minimum, more
    --audio-language values than the master has audio streams) raises the worker's own `ConfigError` here, before
    anything is uploaded. A master that cannot be probed or planned is left to the worker, whose job record then
    says why (the job exists). With a loudness preset, a master up to SILENCE_CHECK_MAX_SECONDS long has its
    audio measured for silence (integrated loudness only): a silent one raises `SilentAudio` (``audio_silent``)
    here, nothing uploaded; a longer one is refused by the worker's pass 1, as an S3 master is.
    Returns the master's duration in seconds, or None when ffprobe cannot read it."""
    from pipelines.chunk import plan_chunks  # noqa: PLC0415 - see TYPE_CHECKING above
    from pipelines.ladder import load_ladder  # noqa: PLC0415
    from pipelines.plan import plan_encode  # noqa: PLC0415
    from pipelines.probe import probe  # noqa: PLC0415

    try:
        source = probe(path, tools=tools)
    except PipelineError:
        return None
    try:
        plan = plan_encode(source, load_ladder(ladder), options)
        if chunks is not None:  # `pipelines.transcode.chunks_for`'s call (without loading the encoder pipeline)
            plan_chunks(plan.source.media_duration, plan.segment_seconds, plan.gop_seconds, plan.fps, chunks)
    except ConfigError:
        raise
    except PipelineError:
        return source.duration  # bad input: the worker rejects it with the full story
    if options.loudness != "off":  # (the meter's code loads only then)
        from pipelines.loudness_measure import SILENCE_CHECK_MAX_SECONDS, SilentAudio, refuse_silent  # noqa: PLC0415

        try:
            if source.duration <= SILENCE_CHECK_MAX_SECONDS:
                refuse_silent(plan, path, tools=tools)
        except SilentAudio:
            raise
        except PipelineError:
            pass  # the meter failed: the worker's pass 1 measures again and says why
    return source.duration


def source_duration(path: Path | None, tools: Tools) -> float | None:
    from pipelines.probe import probe  # noqa: PLC0415 - see TYPE_CHECKING above

    if path is None:
        return None
    try:
        return probe(path, tools=tools).duration
    except PipelineError:
        return None  # the worker rejects it with the full story


def submit(app: FleetApp, store: JobStore, spec: JobSpec, inputs: tuple[InputIdentity, ...], *,
           duration: float | None, force: bool, tools: Tools, fingerprint_cache: Path | None = None) -> Submitted:
    """Store the job (a new revision with `force`) and send it; `fingerprint_cache`: where the encoder's
    fingerprint is remembered between calls (`workers.fingerprint.local_cached`), None to measure it."""
    from workers.queue.send import enqueue  # noqa: PLC0415 - see TYPE_CHECKING above

    measured = local_fingerprint(tools) if fingerprint_cache is None else local_cached(tools, fingerprint_cache)
    fingerprint = measured.value  # the job is pinned to it (workers.queue.routing)
    now = time.time()
    for revision in range(MAX_REVISIONS):
        record = JobRecord(job_id=job_id(spec, inputs, fingerprint, revision=revision), spec=spec, created=now,
                           updated=now, duration=duration, encoder=fingerprint,
                           history=(Transition(state=JobState.QUEUED, at=now, attempt=0,
                                               detail=f"submitted (revision {revision})"),))
        stored, created = store.create(record)
        if created:
            enqueue(app, stored)
            return Submitted(stored, created=True)
        if not force:
            if stored.state is JobState.QUEUED and stored.attempt == 0:
                # Never started, so its message may never have reached the broker (the first submit's send failed
                # with broker_unavailable, or the broker lost it): a repeated submit sends it again, instead of
                # answering "already submitted" for a job nobody will run. A duplicate is harmless: the worker
                # that gets it finds the lease taken or the job done and drops it (workers.delivery.attempt).
                enqueue(app, stored)
                return Submitted(stored, created=False, resent=True)
            return Submitted(stored, created=False)
    raise RuntimeError(f"more than {MAX_REVISIONS} revisions of one job")

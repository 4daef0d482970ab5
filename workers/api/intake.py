"""A job request from the API → the same JobSpec, job id rules and `workers.intake.submit.submit` as `vodfleet
submit`: references resolved to input identities in the storage, the spec validated by JobSpec (its errors named
by the request field), the token's prefixes enforced, then stored and queued (or the existing job returned)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pipelines.errors import CodedError
from pipelines.tools import Tools
from workers.api.multipart import UploadBook
from workers.api.problems import RequestInvalid, ScopeDenied
from workers.api.schemas import JobRequest
from workers.api.tokens import Token
from workers.errors import OptionInvalid
from workers.intake.submit import remote_identity, safe_name, submit
from workers.jobs.spec import InputIdentity, JobSpec
from workers.jobs.state import JobRecord
from workers.keys import parse_s3_uri
from workers.queue.app import FleetApp
from workers.settings import Settings
from workers.storage.base import Storage
from workers.store.base import JobStore
from workers.webhooks.target import Allowlist, check_target

SHARED_MASTERS = "masters"  # `vodfleet submit` uploads local masters here (content-addressed): readable by all

# JobSpec field → the request field its errors name
FIELD_OF = {"source": "source", "subtitles": "subtitles", "audio_languages": "audio_languages", "ladder": "ladder",
            "profile": "profile", "priority": "priority", "chunks": "chunks", "output_prefix": "output_prefix",
            "webhook": "webhook", "loudness": "loudness", "segment_seconds": "segment_seconds"}


@dataclass(frozen=True)
class Fleet:
    """What a submission needs: the fleet's settings, store, storage, Celery app (sends by name) and ffmpeg."""

    settings: Settings
    store: JobStore
    storage: Storage
    app: FleetApp
    tools: Tools
    uploads: UploadBook
    source_buckets: frozenset[str] = frozenset()  # other buckets whose s3:// masters a token may name


def reference(ref: str, token: Token, fleet: Fleet, *, field: str) -> tuple[str, InputIdentity]:
    """A source/sidecar as sent → (the spec's URI, its identity). ``upload:ID`` must be this token's completed
    upload; a fleet key (or an s3:// URI into the fleet's own storage) must lie under the token's prefixes or in
    the shared ``masters/``; another bucket must be one of `source_buckets` (read with the fleet's
    credentials, so without that list any team could read any bucket the fleet can)."""
    if ref.startswith("upload:"):
        upload = fleet.uploads.get(ref.removeprefix("upload:"), token.token_id)
        if upload.state != "complete":
            raise RequestInvalid(f"{field}: upload {upload.upload_id} is not complete",
                                 hint="POST /uploads/{id}/complete first", field=f"body.{field}")
        uri = upload.key
    elif ref.startswith("s3://"):
        uri = ref
        bucket, key = parse_s3_uri(ref)
        fleet_bucket = getattr(fleet.storage, "bucket", None)
        if bucket == fleet_bucket:  # the fleet's own bucket: the same rule as a fleet key (below)
            base = str(getattr(fleet.storage, "prefix", ""))
            inside = key.removeprefix(base + "/") if base else key
            if base and inside == key:
                raise ScopeDenied(f"{field}: {ref} is in the fleet's bucket but outside its storage",
                                  hint="upload the master (POST /uploads)")
            _check_key(inside, token, field)
        elif bucket not in fleet.source_buckets:
            raise ScopeDenied(f"{field}: bucket {bucket!r} is not one the API reads masters from",
                              hint="upload it (POST /uploads), or ask the operator to add the bucket to "
                                   "VODFLEET_API_SOURCE_BUCKETS")
    else:
        uri = ref.removeprefix("key:")
        _check_key(uri, token, field)
    try:
        return uri, remote_identity(uri, fleet.storage, settings=fleet.settings)
    except CodedError as exc:
        exc.field = f"body.{field}"  # type: ignore[attr-defined]  # the API names the field (problems.body_for)
        raise


def _check_key(key: str, token: Token, field: str) -> None:
    if not (token.covers(key) or key.startswith(SHARED_MASTERS + "/")):
        raise ScopeDenied(f"{field}: key {key!r} is outside this token's prefixes ({', '.join(token.prefixes)})",
                          hint="upload it (POST /uploads) or use a key under your prefixes")


def spec_for(request: JobRequest, token: Token, fleet: Fleet) -> tuple[JobSpec, tuple[InputIdentity, ...]]:
    source_uri, source_id = reference(request.source, token, fleet, field="source")
    subs = [(s, *reference(s.source, token, fleet, field=f"subtitles.{i}.source"))
            for i, s in enumerate(request.subtitles)]
    name = safe_name(source_uri.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    prefix = request.output_prefix if request.output_prefix is not None else f"{token.prefixes[0]}/{name}"
    try:
        spec = JobSpec.model_validate({
            "source": source_uri, "output_prefix": prefix, "ladder": request.ladder, "profile": request.profile,
            "target_vmaf": request.target_vmaf,
            "priority": request.priority, "chunks": request.chunks, "webhook": request.webhook,
            "loudness": request.loudness, "segment_seconds": request.segment_seconds,
            "measure_quality": request.measure_quality, "audio_languages": tuple(request.audio_languages),
            "subtitles": tuple({"language": s.language, "uri": uri, "forced": s.forced, "sdh": s.sdh}
                               for s, uri, _ in subs)})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        if loc and loc[0] in FIELD_OF:
            loc[0] = FIELD_OF[loc[0]]
        loc = [("source" if p == "uri" else p) for p in loc]
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise RequestInvalid(f"the job cannot be made: {problems}", hint="fix the named field and submit again",
                             field="body." + ".".join(loc)) from exc
    if not token.covers(spec.output_prefix):
        raise ScopeDenied(f"output_prefix {spec.output_prefix!r} is outside this token's prefixes "
                          f"({', '.join(token.prefixes)})", hint="publish under your team's prefix")
    if spec.webhook is not None:
        try:
            check_target(spec.webhook, Allowlist.parse(fleet.settings.webhook_allow), field="webhook")
        except OptionInvalid as exc:
            raise RequestInvalid(exc.message, hint=exc.hint, field="body.webhook") from exc
    return spec, (source_id, *(identity for _, _, identity in subs))


def submit_request(request: JobRequest, token: Token, fleet: Fleet) -> tuple[JobRecord, bool]:
    """Store and queue the job (or find the existing one); (record, created)."""
    spec, inputs = spec_for(request, token, fleet)
    done = submit(fleet.app, fleet.store, spec, inputs, duration=None, force=request.force, tools=fleet.tools,
                  fingerprint_cache=Path(fleet.settings.state_dir) / "encoder-fingerprint.json")
    return done.record, done.created


def retry(record: JobRecord, fleet: Fleet) -> tuple[JobRecord, bool]:
    """A new revision of a finished job's spec (the inputs' identities read again from the storage)."""
    spec = record.spec
    inputs = (remote_identity(spec.source, fleet.storage, settings=fleet.settings),
              *(remote_identity(s.uri, fleet.storage, settings=fleet.settings) for s in spec.subtitles))
    done = submit(fleet.app, fleet.store, spec, inputs, duration=record.duration, force=True, tools=fleet.tools,
                  fingerprint_cache=Path(fleet.settings.state_dir) / "encoder-fingerprint.json")
    return done.record, done.created

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
from workers.api.problems import ApiError, RequestInvalid, ScopeDenied
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

# The job options a request passes to JobSpec as they are (same names; JobSpec validates them, its errors name
# the request field body.<name>)
PASSED_AS_IS = ("ladder", "profile", "target_vmaf", "priority", "chunks", "webhook", "loudness", "segment_seconds",
                "measure_quality", "codecs", "surround", "audio_map", "captions", "caption_languages",
                "dash_vtt_sidecar")


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
        try:
            upload = fleet.uploads.get(ref.removeprefix("upload:"), token.token_id)
        except ApiError as exc:  # not_found / upload_expired: the field that named it
            exc.field = f"body.{field}"
            raise
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
                                  hint="upload the master (POST /uploads)", field=f"body.{field}")
            _check_key(inside, token, field)
        elif bucket not in fleet.source_buckets:
            raise ScopeDenied(f"{field}: bucket {bucket!r} is not one the API reads masters from",
                              hint="upload it (POST /uploads), or ask the operator to add the bucket to "
                                   "VODFLEET_API_SOURCE_BUCKETS", field=f"body.{field}")
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
                          hint="upload it (POST /uploads) or use a key under your prefixes", field=f"body.{field}")


def _check_prefix(prefix: str, token: Token) -> None:
    if not token.covers(prefix):
        raise ScopeDenied(f"output_prefix {prefix!r} is outside this token's prefixes ({', '.join(token.prefixes)})",
                          hint="publish under your team's prefix", field="body.output_prefix")


def spec_for(request: JobRequest, token: Token, fleet: Fleet) -> tuple[JobSpec, tuple[InputIdentity, ...]]:
    if request.output_prefix is not None:  # before the references: publishing outside the prefixes is the refusal
        _check_prefix(request.output_prefix.strip("/"), token)
    source_uri, source_id = reference(request.source, token, fleet, field="source")
    subs = [(s, *reference(s.source, token, fleet, field=f"subtitles.{i}.source"))
            for i, s in enumerate(request.subtitles)]
    name = safe_name(source_uri.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    prefix = request.output_prefix if request.output_prefix is not None else f"{token.prefixes[0]}/{name}"
    try:
        spec = JobSpec.model_validate({
            **{name: getattr(request, name) for name in PASSED_AS_IS},
            "source": source_uri, "output_prefix": prefix, "thumbnails": request.thumbnails,
            "audio_languages": tuple(request.audio_languages),
            "subtitles": tuple({"language": s.language, "uri": uri, "forced": s.forced, "sdh": s.sdh}
                               for s, uri, _ in subs)})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [("source" if p == "uri" else str(p)) for p in first["loc"]]
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise RequestInvalid(f"the job cannot be made: {problems}", hint="fix the named field and submit again",
                             field="body." + ".".join(loc)) from exc
    _check_prefix(spec.output_prefix, token)
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

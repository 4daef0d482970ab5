"""What every route uses, built once per process: the fleet (store, storage, Celery producer, ffmpeg), the token
book with a short cache, the submission buckets (shared through the job store), the uploads, the play-ticket key;
and the caller of a request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workers.api.intake import Fleet
from workers.api.problems import NotFound, ScopeDenied, TokenInvalid, TokenMissing
from workers.api.ratelimit import Buckets, shared_buckets
from workers.api.settings import ApiSettings
from workers.api.tokens import Token, TokenBook, hash_secret
from workers.jobs.state import JobRecord
from workers.settings import Settings

BEARER = HTTPBearer(auto_error=False, description="an API token: `vodfleet token create`")


@dataclass
class Services:
    fleet: Fleet
    api: ApiSettings
    tokens: TokenBook
    buckets: Buckets
    play_key: bytes
    _cache: dict[str, tuple[Token | None, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, secret: str) -> Token | None:
        """The token of a secret, cached for `token_cache_seconds` (so a revocation takes at most that long)."""
        digest = hash_secret(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and now - hit[1] < self.api.token_cache_seconds:
            return hit[0]
        found = self.tokens.find(secret)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (found, now)
        return found


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def caller(request: Request,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None) -> Token:
    """The token of ``Authorization: Bearer <token>``: TokenMissing / TokenInvalid (401) otherwise. Tokens are
    never read from the URL (they would land in logs and browser history)."""
    if credentials is None or not credentials.credentials:
        raise TokenMissing("this endpoint needs an API token", hint="send the header Authorization: Bearer <token> "
                           "(create one with `vodfleet token create`)")
    token = services(request).token(credentials.credentials.strip())
    if token is None:
        raise TokenInvalid("the API token is unknown or revoked", hint="ask for a new one "
                           "(`vodfleet token create`); check it was copied whole")
    return token


def submitter(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None) -> Token:
    token = caller(request, credentials)
    if not token.may_submit():
        raise ScopeDenied(f"token {token.token_id} may only read", hint="use a token created with --scope submit")
    return token


def visible_job(request: Request, token: Token, job_id: str) -> JobRecord:
    """The job if it exists and lies under the token's prefixes; NotFound otherwise (no existence leak)."""
    record = services(request).fleet.store.get(job_id) if job_id.startswith("job-") and len(job_id) < 64 else None
    if record is None or not token.covers(record.spec.output_prefix):
        raise NotFound(f"no job {job_id[:64]!r} under this token's prefixes", hint="list jobs with GET /jobs",
                       code="job_not_found", field="path.job_id")
    return record


def open_services(settings: Settings, api: ApiSettings) -> Services:
    """Open the fleet the settings name (store, storage, a Celery producer that sends by task name, ffmpeg for
    the encoder fingerprint jobs are pinned to) and the API's own state in the storage."""
    from pipelines.tools import Tools  # noqa: PLC0415 - loads the media side's tool lookup
    from workers.api.multipart import UploadBook  # noqa: PLC0415
    from workers.api.titles import signing_key  # noqa: PLC0415
    from workers.queue.app import fleet_app, prepare  # noqa: PLC0415 - Celery loads here, not at import
    from workers.storage import storage_for  # noqa: PLC0415
    from workers.store import open_store  # noqa: PLC0415

    prepare(settings)
    storage = storage_for(settings)
    fleet = Fleet(settings=settings, store=open_store(settings.store), storage=storage,
                  app=fleet_app(settings), tools=Tools.resolve(),
                  uploads=UploadBook(storage, part_size=api.part_size, max_bytes=api.max_upload_bytes,
                                     expires=api.presign_seconds, ttl=api.upload_ttl),
                  source_buckets=api.buckets())
    return Services(fleet=fleet, api=api, tokens=TokenBook(storage),
                    buckets=shared_buckets(settings.store, api.submit_rate, api.submit_burst),
                    play_key=signing_key(storage))

"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): the same key and body → the same job; the same
key with another body → `IdempotencyConflict` (409).

One record per (token, key): ``_vodfleet/api/idempotency/<token_id>/<sha256(key)>.json``, written create-only
(If-None-Match), so of N concurrent requests exactly one claims the key and submits; the others wait for the job
id it records. A claim whose submission failed is removed, so the client can retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from workers.api.problems import IdempotencyConflict, RequestInvalid
from workers.errors import ObjectNotFound, PreconditionFailed
from workers.storage.base import Storage

PREFIX = "_vodfleet/api/idempotency"
MAX_KEY_LENGTH = 255
WAIT_SECONDS = 60.0
STALE_SECONDS = 300.0  # a claim this old without a job id: its request died mid-way; the next one takes over


def body_digest(body: object) -> str:
    """sha256 of the request body as canonical JSON (sorted keys, no whitespace) (pure)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def record_key(token_id: str, key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or any(ord(c) < 0x21 or ord(c) > 0x7E for c in key):
        raise RequestInvalid(f"Idempotency-Key {key[:40]!r}: 1-{MAX_KEY_LENGTH} printable ASCII characters",
                             hint="send a UUID", field="Idempotency-Key")
    return f"{PREFIX}/{token_id}/{hashlib.sha256(key.encode()).hexdigest()}.json"


@dataclass(frozen=True)
class Outcome:
    job_id: str
    replayed: bool  # True: an earlier request with this key made the job


def once(storage: Storage, token_id: str, key: str, body: object, submit: Callable[[], str], *,
         wait: float = WAIT_SECONDS, poll: float = 0.05, now: Callable[[], float] = time.time) -> Outcome:
    """Run `submit` (which returns a job id) at most once per (token, key); see the module docstring."""
    where = record_key(token_id, key)
    digest = body_digest(body)
    try:
        # the claim's own nonce: a storage that treats an identical object as its own retried write
        # (`S3Storage.put_bytes`) must see N different claims, not one
        claim = {"body": digest, "job_id": None, "claim": secrets.token_hex(8), "at": now()}
        storage.put_bytes(where, json.dumps(claim).encode(), content_type="application/json", if_none_match=True)
    except PreconditionFailed:
        try:
            return _replay(storage, where, digest, wait=wait, poll=poll)
        except IdempotencyConflict:
            if not _stale(storage, where, now()):
                raise
            storage.delete(where)  # the request that claimed it died before recording its job
            return once(storage, token_id, key, body, submit, wait=wait, poll=poll, now=now)
    try:
        job_id = submit()
    except BaseException:
        storage.delete(where)
        raise
    storage.put_bytes(where, json.dumps({"body": digest, "job_id": job_id}).encode(), content_type="application/json")
    return Outcome(job_id, replayed=False)


def _replay(storage: Storage, where: str, digest: str, *, wait: float, poll: float) -> Outcome:
    deadline = time.monotonic() + wait
    while True:
        try:
            record = json.loads(storage.get_bytes(where))
        except ObjectNotFound:
            record = None  # the first request failed and removed its claim
        if record is not None and record.get("body") != digest:
            raise IdempotencyConflict("this Idempotency-Key was used with another request body",
                                      hint="use a new key for a new request; resend the same body to get the "
                                           "same job")
        if record is not None and record.get("job_id"):
            return Outcome(str(record["job_id"]), replayed=True)
        if record is None or time.monotonic() > deadline:
            raise IdempotencyConflict("the first request with this Idempotency-Key has not finished (or failed)",
                                      hint="retry the same request in a few seconds")
        time.sleep(poll)


def _stale(storage: Storage, where: str, now: float) -> bool:
    try:
        record = json.loads(storage.get_bytes(where))
    except ObjectNotFound:
        return False
    return not record.get("job_id") and now - float(record.get("at", now)) > STALE_SECONDS

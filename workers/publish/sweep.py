"""The version sweep: partial ``vNNNN/`` folders of publishes that claimed a version and never committed it.

A publish killed or failed between its claim and its commit (`workers.publish.protocol`) leaves its objects under
``<prefix>/vNNNN/``, unreferenced. For one title prefix, a claim's version is **abandoned** when all hold:

- no commit record (``<prefix>/jobs/*.json``) names it and ``live.json`` does not point at it;
- its ``claimed_at`` is older than the grace period (``VODFLEET_CLAIM_GRACE``, default 3600 s);
- its attempt is not publishing now (`publishing(job_id, attempt)`: the job store says that attempt of that job
  is ``publishing`` under a live lease).

Its objects are deleted masters first (the reverse of the publish phases, so a reader never meets a manifest
naming a deleted object), its incomplete multipart uploads aborted, and its claim rewritten with ``swept_at``:
the number is never claimed again, and an attempt that wakes up late (frozen past its lease) finds its claim
swept before it commits and withdraws (`claim_swept`). Run on every publish of the title and by every worker's
sweep (`workers.delivery.sweep`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from workers.errors import ObjectNotFound, StorageError
from workers.keys import join_key, validate_prefix
from workers.publish.plan import Phase, claim_key, live_key, phase_of, version_key, version_number
from workers.storage.base import Storage

log = logging.getLogger(__name__)
JSON = "application/json"
DELETE_ORDER = (Phase.MASTERS, Phase.PLAYLISTS, Phase.MEDIA)


@dataclass(frozen=True)
class Claim:
    version: str  # "v0007"
    job_id: str
    attempt: int
    claimed_at: float  # unix time
    swept: bool


def parse_claim(data: bytes) -> Claim | None:
    """A claim record, or None if it is not one (pure)."""
    try:
        value = json.loads(data)
        version, job_id, attempt = value["version"], value["job_id"], value["attempt"]
        claimed_at = datetime.fromisoformat(value["claimed_at"]).timestamp()
    except (ValueError, KeyError, TypeError):
        return None
    if version_number(str(version)) is None or not isinstance(attempt, int):
        return None
    return Claim(str(version), str(job_id), attempt, claimed_at, "swept_at" in value)


def abandoned(claim: Claim, *, committed: set[str], now: float, grace: float,
              publishing: Callable[[str, int], bool]) -> bool:
    """Whether a claimed version is abandoned (pure but for `publishing`); see the module docstring."""
    if claim.swept or claim.version in committed or now - claim.claimed_at < grace:
        return False
    return not publishing(claim.job_id, claim.attempt)


def deletion_order(keys: list[str]) -> list[str]:
    """Relative keys of a version in the order they are deleted: masters, playlists, media (pure)."""
    rank = {phase: n for n, phase in enumerate(DELETE_ORDER)}
    return sorted(keys, key=lambda key: (rank[phase_of(key)], key))


def committed_versions(storage: Storage, prefix: str) -> set[str]:
    """Versions named by the title's commit records and its live pointer."""
    found = set()
    for info in storage.list(join_key(prefix, "jobs") + "/"):
        try:
            version = json.loads(storage.get_bytes(info.key)).get("version")
        except (ObjectNotFound, ValueError, AttributeError):
            continue
        if isinstance(version, str):
            found.add(version)
    try:
        live = json.loads(storage.get_bytes(live_key(prefix))).get("version")
    except (ObjectNotFound, ValueError, AttributeError):
        live = None
    if isinstance(live, str):
        found.add(live)
    return found


def claim_swept(storage: Storage, prefix: str, version: str) -> bool:
    """Whether the sweep took this version (its claim says ``swept_at``): a late attempt must not commit it."""
    try:
        claim = parse_claim(storage.get_bytes(claim_key(prefix, version)))
    except ObjectNotFound:
        return True  # no claim at all: never commit a version nobody owns
    return claim is None or claim.swept


def sweep_versions(storage: Storage, prefix: str, *, now: float, grace: float,
                   publishing: Callable[[str, int], bool]) -> list[str]:
    """Delete the abandoned versions of one title; return their names ("v0007")."""
    prefix = validate_prefix(prefix)
    claims = []
    for info in storage.list(join_key(prefix, "claims") + "/"):
        try:
            data = storage.get_bytes(info.key)
        except ObjectNotFound:
            continue
        claim = parse_claim(data)
        if claim is not None and not claim.swept:
            claims.append((claim, data))
    if not claims:
        return []
    committed = committed_versions(storage, prefix)
    swept = []
    for claim, data in claims:
        if not abandoned(claim, committed=committed, now=now, grace=grace, publishing=publishing):
            continue
        base = version_key(prefix, claim.version)
        storage.abort_incomplete_uploads(base + "/")
        keys = [info.key.removeprefix(base + "/") for info in storage.list(base + "/")]
        for relative in deletion_order(keys):
            storage.delete(join_key(base, relative))
        record = {**json.loads(data), "swept_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                  "swept_objects": len(keys)}
        storage.put_bytes(claim_key(prefix, claim.version), json.dumps(record, sort_keys=True, indent=1).encode(),
                          content_type=JSON)
        log.warning("sweep: %s/%s (job %s attempt %d, never committed): %d objects removed", prefix,
                    claim.version, claim.job_id, claim.attempt, len(keys))
        swept.append(claim.version)
    return swept


def sweep_quietly(storage: Storage, prefix: str, *, now: float, grace: float,
                  publishing: Callable[[str, int], bool]) -> list[str]:
    """`sweep_versions`, best effort: a storage error is logged, never raised (the publish or the watchdog goes
    on)."""
    try:
        return sweep_versions(storage, prefix, now=now, grace=grace, publishing=publishing)
    except StorageError as exc:
        log.warning("sweep: versions of %s not swept now: %s", prefix, exc)
        return []

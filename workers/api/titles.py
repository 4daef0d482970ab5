"""Published titles: their versions (``<title>/vNNNN/``), the live one (``live.json``), each version's report
summary, presigned URLs of its manifests, and a short-lived play capability for the console's player.

A play ticket is ``base64url({"p": version prefix, "e": expiry})`` + ``.`` + an HMAC-SHA256 of it under the API's
signing key (created once, create-only, in the fleet storage: every replica signs alike). It is a capability for
one version's files for `presign_seconds`, not a credential: it names no token and grants nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time

from workers.api.problems import NotFound
from workers.api.schemas import TitleOut, VersionOut
from workers.errors import ObjectNotFound, PreconditionFailed
from workers.keys import validate_key
from workers.publish.protocol import read_live
from workers.storage.base import Storage

SIGNING_KEY = "_vodfleet/api/signing-key"
_VERSION = re.compile(r"^v\d{4,}$")


def signing_key(storage: Storage) -> bytes:
    """The fleet's play-ticket key: read, or created once (create-only, so concurrent replicas agree)."""
    try:
        return storage.get_bytes(SIGNING_KEY)
    except ObjectNotFound:
        pass
    with contextlib.suppress(PreconditionFailed):  # another replica made it first
        storage.put_bytes(SIGNING_KEY, secrets.token_bytes(32), if_none_match=True)
    return storage.get_bytes(SIGNING_KEY)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_ticket(key: bytes, version_prefix: str, *, expires: int, now: float) -> str:
    """A play ticket for one version prefix (pure)."""
    body = _b64(json.dumps({"p": version_prefix, "e": int(now + expires)}, separators=(",", ":")).encode())
    return body + "." + hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def read_ticket(key: bytes, ticket: str, *, now: float) -> str | None:
    """The version prefix a valid, unexpired ticket grants, else None (pure)."""
    body, _, mac = ticket.partition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]
    if not mac or not hmac.compare_digest(mac, expected):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(data, dict) or float(data.get("e", 0)) < now:
        return None
    return str(data["p"])


def _presigned(storage: Storage, key: str, expires: int) -> str | None:
    if getattr(storage, "client", None) is None or storage.head(key) is None:
        return None  # local storage has no presigned URLs (the play URL serves it)
    return storage.presigned_url(key, expires=expires)


def _report(storage: Storage, key: str) -> dict[str, object] | None:
    try:
        data = json.loads(storage.get_bytes(key))
    except (ObjectNotFound, ValueError):
        return None
    return data if isinstance(data, dict) else None


def versions(storage: Storage, title: str) -> list[str]:
    """Version names with a claim (``claims/vNNNN.json``), oldest first."""
    names = {info.key.rsplit("/", 1)[-1].removesuffix(".json") for info in storage.list(f"{title}/claims/")}
    return sorted(n for n in names if _VERSION.match(n))


def describe(storage: Storage, title: str, *, key: bytes, expires: int, base_url: str) -> TitleOut:
    """The title's published versions (those with a report.json: complete), newest first."""
    title = validate_key(title.strip("/"))
    live = read_live(storage, title)
    found: list[VersionOut] = []
    now = time.time()
    for version in reversed(versions(storage, title)):
        prefix = f"{title}/{version}"
        report = _report(storage, f"{prefix}/report.json")
        if report is None:
            continue  # claimed but never completed (a failed attempt's leftovers)
        qc = report.get("qc")
        renditions = report.get("renditions")
        video = renditions.get("video", []) if isinstance(renditions, dict) else []
        source = report.get("source")
        duration = source.get("duration") if isinstance(source, dict) else None
        ticket = make_ticket(key, prefix, expires=expires, now=now)
        found.append(VersionOut(
            version=version, live=live is not None and live.version == version,
            job_id=live.job_id if live is not None and live.version == version else None,
            qc_passed=bool(qc.get("passed")) if isinstance(qc, dict) else None,
            renditions=[str(v.get("id")) for v in video if isinstance(v, dict)],
            duration=float(duration) if isinstance(duration, int | float) else None,
            hls=_presigned(storage, f"{prefix}/master.m3u8", expires),
            dash=_presigned(storage, f"{prefix}/manifest.mpd", expires),
            report=_presigned(storage, f"{prefix}/report.json", expires),
            play=f"{base_url}/_vodfleet/?base=/play/{ticket}/"))
    if not found:
        raise NotFound(f"no published version of {title!r}", hint="wait for its job to be published")
    return TitleOut(title=title, live=live.version if live else None, versions=found)

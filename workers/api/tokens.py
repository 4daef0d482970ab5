"""API tokens: who may call the HTTP API, for which output prefixes (a team), and whether to read or submit.

A token is a random secret (``vft_`` + 32 bytes, URL-safe base64) shown once, at creation. At rest only its
SHA-256 is kept, as the name of one JSON object in the fleet storage, ``_vodfleet/api/tokens/<sha256>.json``
(every API replica reads the same tokens; the secret itself is nowhere). Looking a token up hashes the
presented secret and reads that object; the stored hash is compared with `hmac.compare_digest`. A 256-bit
random secret needs no slow password hash: it cannot be guessed, only stolen.

Scopes: ``read`` (list and read jobs, titles and events under the token's prefixes) and ``submit`` (read, plus
submit, cancel, retry and upload). Prefixes are key prefixes matched on whole segments: ``team-a`` covers
``team-a/show/ep1`` but not ``team-ab/x``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from workers.errors import KeyInvalid, ObjectNotFound
from workers.keys import validate_key
from workers.storage.base import Storage

Scope = Literal["read", "submit"]
SCOPES: tuple[Scope, ...] = ("read", "submit")
TOKENS_PREFIX = "_vodfleet/api/tokens"
SECRET_PREFIX = "vft_"  # noqa: S105 - the prefix that marks a vodfleet token, not a secret


def hash_secret(secret: str) -> str:
    """The stored form of a token (pure): sha256 hex of the secret's UTF-8 bytes."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalize_prefix(prefix: str) -> str:
    """``team-a/`` → ``team-a`` (a valid key prefix; raises KeyInvalid naming it)."""
    cleaned = prefix.strip().strip("/")
    if not cleaned:
        raise KeyInvalid(f"token prefix {prefix!r} is empty", hint="name the team's output prefix, e.g. team-a/")
    return validate_key(cleaned)


def covers(prefixes: Iterable[str], key: str) -> bool:
    """Whether `key` (an output prefix or object key) lies under one of `prefixes`, on whole segments (pure)."""
    key = key.strip("/")
    return any(key == p or key.startswith(p + "/") for p in prefixes)


@dataclass(frozen=True)
class Token:
    token_id: str  # "tok_" + 10 hex: names a token in listings and `vodfleet token revoke`; not a secret
    sha256: str
    prefixes: tuple[str, ...]
    scope: Scope
    label: str
    created: float

    def may_submit(self) -> bool:
        return self.scope == "submit"

    def covers(self, key: str) -> bool:
        return covers(self.prefixes, key)

    def to_json(self) -> dict[str, object]:
        return {"token_id": self.token_id, "sha256": self.sha256, "prefixes": list(self.prefixes),
                "scope": self.scope, "label": self.label, "created": self.created}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Token:
        scope = str(data["scope"])
        if scope not in SCOPES:
            raise ValueError(f"token scope {scope!r}")
        prefixes = data["prefixes"]
        if not isinstance(prefixes, list):
            raise TypeError("token prefixes must be a list")
        created = data.get("created", 0.0)
        return cls(token_id=str(data["token_id"]), sha256=str(data["sha256"]), prefixes=tuple(map(str, prefixes)),
                   scope="submit" if scope == "submit" else "read", label=str(data.get("label", "")),
                   created=float(created) if isinstance(created, int | float) else 0.0)


class TokenBook:
    """The tokens kept in one storage (the fleet's). Every method does storage I/O (StorageError)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _key(self, sha256: str) -> str:
        return f"{TOKENS_PREFIX}/{sha256}.json"

    def create(self, prefixes: Iterable[str], scope: Scope, *, label: str = "") -> tuple[str, Token]:
        """A new token: (the secret, to show once; what is stored). Raises KeyInvalid for a bad prefix."""
        cleaned = tuple(dict.fromkeys(normalize_prefix(p) for p in prefixes))
        if not cleaned:
            raise KeyInvalid("a token needs at least one output prefix", hint="pass --prefix team-a/")
        if scope not in SCOPES:
            raise KeyInvalid(f"scope {scope!r} is not one of {', '.join(SCOPES)}", hint="--scope read or submit")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        token = Token(token_id="tok_" + secrets.token_hex(5), sha256=hash_secret(secret), prefixes=cleaned,
                      scope=scope, label=label, created=time.time())
        self.storage.put_bytes(self._key(token.sha256), json.dumps(token.to_json()).encode(),
                               content_type="application/json", if_none_match=True)
        return secret, token

    def find(self, secret: str) -> Token | None:
        """The token whose secret this is, or None (unknown or revoked)."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        try:
            token = Token.from_json(json.loads(self.storage.get_bytes(self._key(digest))))
        except ObjectNotFound:
            return None
        return token if hmac.compare_digest(token.sha256, digest) else None

    def tokens(self) -> list[Token]:
        """Every live token, oldest first."""
        found = []
        for info in self.storage.list(TOKENS_PREFIX + "/"):
            try:
                found.append(Token.from_json(json.loads(self.storage.get_bytes(info.key))))
            except ObjectNotFound:
                continue  # revoked while listed
        return sorted(found, key=lambda t: t.created)

    def revoke(self, token_id: str) -> Token | None:
        """Delete the token with this id; return it (None: no such token)."""
        for token in self.tokens():
            if token.token_id == token_id:
                self.storage.delete(self._key(token.sha256))
                return token
        return None

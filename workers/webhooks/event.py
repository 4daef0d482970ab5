"""Webhook events (pure): which events a job's history makes, their bodies, backoff and signature.

An event is one state a job reached in one attempt: its id ``<job_id>:<state>:<attempt>`` is the
``Idempotency-Key`` header and the body's ``idempotency_key``; every retry of it sends the same body.
Signature (when a secret is set): ``X-Vodfleet-Signature: sha256=<hex>`` of
HMAC-SHA256(secret, ``<X-Vodfleet-Timestamp>.`` + body); receivers should reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass

from workers.jobs.state import TERMINAL, JobRecord, JobState

DEFAULT_STATES: frozenset[JobState] = TERMINAL  # published, failed, cancelled


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    job_id: str
    url: str
    body: bytes


def events_for(record: JobRecord, states: Collection[JobState] = DEFAULT_STATES) -> list[WebhookEvent]:
    """One event per (state, attempt) in the job's history whose state is in `states` (pure)."""
    url = record.spec.webhook
    if url is None:
        return []
    found: dict[str, WebhookEvent] = {}
    for step in record.history:
        if step.state not in states:
            continue
        event_id = f"{record.job_id}:{step.state.value}:{step.attempt}"
        terminal = step.state in TERMINAL
        body = {"idempotency_key": event_id, "job_id": record.job_id, "state": step.state.value,
                "attempt": step.attempt, "at": step.at, "detail": step.detail,
                "source": record.spec.source, "output_prefix": record.spec.output_prefix,
                "output": record.output if step.state is JobState.PUBLISHED else None,
                "failure": record.failure.model_dump(mode="json") if terminal and step.state is JobState.FAILED
                and record.failure else None}
        found.setdefault(event_id, WebhookEvent(event_id, record.job_id, url,
                                                json.dumps(body, sort_keys=True, separators=(",", ":")).encode()))
    return list(found.values())


def backoff(tries: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after `tries` failed ones: uniform in [c/2, c], c = min(cap, base·2^(tries−1))."""
    ceiling = min(cap, base * 2 ** max(0, tries - 1))
    return float(ceiling * (0.5 + 0.5 * rand()))  # at least half: retries never bunch up at zero


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def headers(event: WebhookEvent, *, timestamp: str, secret: bytes | None) -> dict[str, str]:
    found = {"Content-Type": "application/json", "Idempotency-Key": event.event_id,
             "X-Vodfleet-Event": event.event_id.rsplit(":", 2)[1], "X-Vodfleet-Timestamp": timestamp,
             "User-Agent": "vodfleet-webhook/1"}
    if secret is not None:
        found["X-Vodfleet-Signature"] = signature(secret, timestamp, event.body)
    return found

"""Webhook events (pure): ids, bodies, backoff bounds, signatures; the spec field keeps old job ids."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from pydantic import ValidationError

from workers.jobs.spec import InputIdentity, JobSpec, job_id
from workers.jobs.state import JobRecord, JobState, Transition, apply
from workers.webhooks.event import backoff, events_for, headers, signature

INPUT = (InputIdentity(uri="masters/a/ep1.mp4", size=10, etag="e"),)


def test_webhook_does_not_change_the_job_id() -> None:
    plain = JobSpec(source="masters/a/ep1.mp4", output_prefix="outputs/ep1")
    hooked = plain.model_copy(update={"webhook": "https://hooks.example/x"})
    assert job_id(plain, INPUT, "fp") == job_id(hooked, INPUT, "fp")
    assert "webhook" not in plain.canonical()


@pytest.mark.parametrize("url", ["ftp://x/y", "file:///etc/passwd", "http://", "https://u:p@host/x",
                                 "https://host/x#frag", "https://host/a b", "javascript:alert(1)",
                                 "https://host:99999/"])
def test_webhook_must_be_plain_http_or_https(url: str) -> None:
    with pytest.raises(ValidationError):
        JobSpec(source="masters/a/ep1.mp4", output_prefix="outputs/ep1", webhook=url)


def test_events_for_terminal_states_with_stable_ids_and_bodies() -> None:
    spec = JobSpec(source="masters/a/ep1.mp4", output_prefix="outputs/ep1", webhook="http://127.0.0.1:1/h")
    record = JobRecord(job_id="job-" + "1" * 24, spec=spec, created=1.0, updated=1.0,
                       history=(Transition(state=JobState.QUEUED, at=1.0, attempt=0),))
    record = apply(apply(record, JobState.FETCHING, at=2.0, attempt=1), JobState.PUBLISHED, at=3.0, output="s3://b/o")
    (event,) = events_for(record)
    assert event.event_id == f"{record.job_id}:published:1"
    body = json.loads(event.body)
    assert body["idempotency_key"] == event.event_id and body["output"] == "s3://b/o"
    assert events_for(record) == [event]  # the same body every time
    assert len(events_for(record, states=set(JobState))) == 3


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    lows = [backoff(n, base=1.0, cap=30.0, rand=lambda: 0.0) for n in range(1, 8)]
    highs = [backoff(n, base=1.0, cap=30.0, rand=lambda: 1.0) for n in range(1, 8)]
    assert lows == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert highs == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    expected = hmac.new(b"k", b"123.{}", hashlib.sha256).hexdigest()
    assert signature(b"k", "123", b"{}") == "sha256=" + expected
    from workers.webhooks.event import WebhookEvent

    event = WebhookEvent("job-x:failed:2", "job-x", "http://h/", b"{}")
    found = headers(event, timestamp="123", secret=b"k")
    assert found["Idempotency-Key"] == "job-x:failed:2" and found["X-Vodfleet-Event"] == "failed"
    assert found["X-Vodfleet-Signature"] == "sha256=" + expected
    assert "X-Vodfleet-Signature" not in headers(event, timestamp="1", secret=None)

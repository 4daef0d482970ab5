"""docs/openapi.json is the document the API serves (regenerate: see the README's API section), and the API's pure
rules: token prefixes, play tickets, rate buckets, part sizes, error statuses."""

from __future__ import annotations

import json
from pathlib import Path

from workers.api.app import openapi_document
from workers.api.multipart import Upload, plan_part_size
from workers.api.problems import RateLimited, status_for
from workers.api.ratelimit import TokenBuckets
from workers.api.titles import make_ticket, read_ticket
from workers.api.tokens import covers, hash_secret
from workers.errors import JobNotFound, ObjectNotFound, OptionInvalid

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_checked_in_openapi_document_is_the_generated_one() -> None:
    generated = json.loads(json.dumps(openapi_document()))
    assert json.loads(DOC.read_text(encoding="utf-8")) == generated, (
        "docs/openapi.json is stale: python -c 'import json; from workers.api.app import openapi_document; "
        "print(json.dumps(openapi_document(), indent=1, sort_keys=True, ensure_ascii=False))' > docs/openapi.json")


def test_every_operation_declares_its_errors_and_security() -> None:
    doc = openapi_document()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if path not in ("/healthz", "/metrics"):
                assert "401" in operation["responses"], (method, path)
                assert operation.get("security"), (method, path)


def test_prefixes_cover_whole_segments() -> None:
    assert covers(["team-a"], "team-a/show/ep1") and covers(["team-a"], "team-a")
    assert not covers(["team-a"], "team-ab/x") and not covers(["team-a"], "team-b/team-a")


def test_secrets_are_stored_as_sha256() -> None:
    import hashlib

    assert hash_secret("vft_x") == hashlib.sha256(b"vft_x").hexdigest()


def test_play_tickets_are_signed_and_expire() -> None:
    key = b"k" * 32
    ticket = make_ticket(key, "team-a/ep/v0001", expires=60, now=1000.0)
    assert read_ticket(key, ticket, now=1059.0) == "team-a/ep/v0001"
    assert read_ticket(key, ticket, now=1061.0) is None
    assert read_ticket(b"other" * 8, ticket, now=1000.0) is None
    body, mac = ticket.split(".")
    assert read_ticket(key, body[:-2] + "AA." + mac, now=1000.0) is None


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    buckets = TokenBuckets(rate_per_minute=60, burst=3)
    assert [buckets.take("t", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("t", 0.0) == 1.0
    assert buckets.take("t", 1.0) == 0.0
    assert buckets.take("other", 1.0) == 0.0


def test_part_sizes_fit_ten_thousand_parts() -> None:
    assert plan_part_size(10 * 2**20, 8 * 2**20) == 8 * 2**20
    assert plan_part_size(200 * 2**30, 8 * 2**20) * 10_000 >= 200 * 2**30
    upload = Upload("up_1", "tok", "k", "s3", "f", size=13, part_size=5, content_type="x", state="uploading",
                    created=0.0)
    assert upload.part_count == 3 and upload.part_range(3) == (10, 3)


def test_error_statuses() -> None:
    assert status_for(RateLimited("x", retry_after=1)) == 429
    assert status_for(ObjectNotFound("x")) == 422
    assert status_for(OptionInvalid("x")) == 422
    assert status_for(JobNotFound("x")) == 404


def test_cors_preflight_follows_the_configured_origins() -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from workers.api.app import create_app

    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}

    async def ask(origins: list[str] | None, origin: str) -> httpx.Headers:
        transport = httpx.ASGITransport(app=create_app(None, origins=origins))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return (await client.options("/jobs", headers={"Origin": origin, **asked})).headers

    def preflight(origins: list[str] | None, origin: str) -> httpx.Headers:
        # a thread of its own: asyncio.run fails on the main thread when an earlier test in this process
        # (Playwright's sync API) left a running event loop there
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, ask(origins, origin)).result()

    allowed = preflight(["https://cms.example"], "https://cms.example")
    assert allowed["access-control-allow-origin"] == "https://cms.example"
    assert "authorization" in allowed["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in preflight(["https://cms.example"], "https://evil.example")
    assert "access-control-allow-origin" not in preflight(None, "https://cms.example")  # none configured

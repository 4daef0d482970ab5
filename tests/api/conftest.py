"""A real fleet behind a real API process: SeaweedFS (S3, SigV4, CORS for the browser), the embedded broker and
SQLite store in one state folder, one `vodfleet worker`, and `vodfleet api` (uvicorn) on a free port; tokens for
two teams. A missing SeaweedFS skips locally and fails in CI (tests/fleet/seaweed_server.py)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from apikit import ApiFleet
from fleet.seaweed_server import BUCKET, SeaweedServer, serve  # tests/ is on sys.path (tests/conftest.py)
from fleetkit import free_port, wait_port
from openapi_check import OpenApiCheck

from workers.api.app import openapi_document


@pytest.fixture(scope="session")
def s3_api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    yield from serve(tmp_path_factory.mktemp("seaweed-api"))


@pytest.fixture(scope="session")
def api_fleet(tmp_path_factory: pytest.TempPathFactory, s3_api_server: SeaweedServer) -> Iterator[ApiFleet]:
    """The fleet and its API, with tokens: a (team-a submit), a_read (team-a read), b (team-b submit)."""
    state = tmp_path_factory.mktemp("api-state")
    prefix = "api-" + secrets.token_hex(4)
    client = s3_api_server.client()
    client.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{  # type: ignore[attr-defined]
        "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT", "HEAD"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    port = free_port()
    env = {**os.environ, "VODFLEET_STATE_DIR": str(state), "VODFLEET_LEASE_TTL": "3",
           "VODFLEET_WATCHDOG_INTERVAL": "0.5", "PYTHONUNBUFFERED": "1",
           "VODFLEET_STORAGE_URI": f"s3://{BUCKET}/{prefix}", "VODFLEET_S3_ENDPOINT_URL": s3_api_server.endpoint,
           "VODFLEET_S3_ACCESS_KEY": s3_api_server.access_key, "VODFLEET_S3_SECRET_KEY": s3_api_server.secret_key,
           "VODFLEET_API_SUBMIT_RATE": "30", "VODFLEET_API_SUBMIT_BURST": "30",
           "VODFLEET_API_PART_SIZE": str(5 * 1024 * 1024), "VODFLEET_API_EVENTS_INTERVAL": "0.2",
           "VODFLEET_API_TOKEN_CACHE_SECONDS": "0"}
    fleet = ApiFleet(state=state, env=env, s3=s3_api_server, prefix=prefix, base=f"http://127.0.0.1:{port}")
    try:
        fleet.tokens = {"a": fleet.token("team-a/", "submit"), "a_read": fleet.token("team-a", "read"),
                        "b": fleet.token("team-b/", "submit")}
        api = fleet.start("api", "api", "--port", str(port))
        wait_port(port, 60, api)
        deadline = time.monotonic() + 30
        while httpx.get(f"{fleet.base}/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        fleet.start("worker", "worker")
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="session")
def openapi() -> OpenApiCheck:
    return OpenApiCheck(openapi_document())

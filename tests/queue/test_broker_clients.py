"""Other clients of the fleet's Redis broker: a plain Celery app with kombu's defaults (what Flower and
`celery inspect` are) pings a real `vodfleet worker` and gets its answer, and the worker logs no ValueError.
(With a custom key separator on the worker, each such ping made it log a traceback and answer nobody.)"""

from __future__ import annotations

import time

import pytest
from celery import Celery  # type: ignore[import-untyped]
from fleetkit import Fleet

pytestmark = pytest.mark.queue


def test_a_default_celery_client_inspects_the_workers(redis_fleet: Fleet) -> None:
    redis_fleet.worker()
    client = Celery("flower-like", broker=redis_fleet.env["VODFLEET_BROKER_URL"], set_as_current=False)
    replies: dict[str, object] = {}
    deadline = time.monotonic() + 60
    while not replies and time.monotonic() < deadline:
        replies = client.control.inspect(timeout=2).ping() or {}
    assert [name for name in replies if name.startswith("vodfleet-")], redis_fleet.logs()[-3000:]
    assert "ValueError" not in redis_fleet.logs()

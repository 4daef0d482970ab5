"""The submission token buckets kept in the job store: two bucket objects (as two API replicas hold) over one
SQLite file or one real Redis share a budget, also under concurrent takes; the refill rule is the pure one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fleetkit import RedisServer  # tests/ is on sys.path (tests/conftest.py)

from workers.api.ratelimit import Buckets, RedisBuckets, SQLiteBuckets, TokenBuckets, refill, shared_buckets


def test_refill_rule() -> None:
    assert refill(3.0, 0.0, 0.0, rate_per_minute=60, burst=3) == (2.0, 0.0)
    left, wait = refill(0.0, 0.0, 0.5, rate_per_minute=60, burst=3)
    assert left == pytest.approx(0.5) and wait == pytest.approx(0.5)
    assert refill(0.0, 0.0, 100.0, rate_per_minute=60, burst=3) == (2.0, 0.0)  # capped at the burst


def _allowed(replicas: list[Buckets], key: str, takes: int) -> int:
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda i: replicas[i % len(replicas)].take(key, 0.0), range(takes)))
    return sum(1 for w in waits if w == 0.0)


def test_sqlite_buckets_share_one_budget(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state/jobs.sqlite"
    replicas = [shared_buckets(url, 1, 5), shared_buckets(url, 1, 5)]
    assert all(isinstance(b, SQLiteBuckets) for b in replicas)
    assert _allowed(replicas, "tok_a", 20) == 5
    assert _allowed(replicas, "tok_b", 4) == 4  # another token has its own bucket
    wait = replicas[1].take("tok_a", 0.0)
    assert 50 < wait <= 60


def test_in_process_buckets_are_not_shared() -> None:
    replicas: list[Buckets] = [TokenBuckets(1, 5), TokenBuckets(1, 5)]
    assert _allowed(replicas, "tok_a", 20) == 10


def test_redis_buckets_share_one_budget(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        url = f"{server.url}/0"
        replicas = [shared_buckets(url, 1, 5), shared_buckets(url, 1, 5)]
        assert all(isinstance(b, RedisBuckets) for b in replicas)
        assert _allowed(replicas, "tok_a", 20) == 5
        assert _allowed(replicas, "tok_b", 4) == 4
        assert 50 < replicas[0].take("tok_a", 0.0) <= 60
    finally:
        server.kill()

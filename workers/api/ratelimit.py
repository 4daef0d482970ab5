"""Submission rate limits: one token bucket per API token, shared by every API process of the fleet.

A bucket holds at most `burst` submissions and refills at `rate_per_minute`. The level lives in the fleet's job
store, so N API replicas behind a load balancer share one budget per token:

- SQLite store: a table ``api_buckets(key, tokens, at)`` in the store's file, read and written in one
  ``BEGIN IMMEDIATE`` transaction (SQLite serialises writers across processes);
- Redis store: a hash ``vodfleet:api:bucket:<key>`` updated by one Lua script (atomic on the server), with the
  server's clock (``TIME``) so replicas on different hosts agree; it expires once full again.

`refill` is the pure rule both use; `TokenBuckets` keeps levels in the process (tests and a store-less API).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from workers.errors import StoreUnavailable
from workers.store.transaction import transaction


class Buckets(Protocol):
    def take(self, key: str, now: float) -> float:
        """Spend one submission of `key`'s bucket: 0.0 when allowed, else the seconds until one is available."""
        ...


def refill(tokens: float, at: float, now: float, *, rate_per_minute: float, burst: int) -> tuple[float, float]:
    """One take from a bucket last at `tokens` at time `at` (seconds): (tokens left, wait in seconds; 0 = allowed)
    (pure)."""
    per_second = rate_per_minute / 60.0
    level = min(float(burst), tokens + max(0.0, now - at) * per_second)
    if level >= 1.0:
        return level - 1.0, 0.0
    return level, (1.0 - level) / per_second


@dataclass
class TokenBuckets:
    """Levels in this process only (N processes allow N times the rate): for tests and single-process use."""

    rate_per_minute: float
    burst: int
    _levels: dict[str, tuple[float, float]] = field(default_factory=dict)  # key → (tokens, at)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, now: float) -> float:
        with self._lock:
            tokens, at = self._levels.get(key, (float(self.burst), now))
            left, wait = refill(tokens, at, now, rate_per_minute=self.rate_per_minute, burst=self.burst)
            self._levels[key] = (left, now)
            return wait


_SCHEMA = "CREATE TABLE IF NOT EXISTS api_buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL)"


@dataclass
class SQLiteBuckets:
    """Levels in the SQLite job store's file (`path`); `now` is ignored for the wall clock every process on the
    host shares. Raises StoreUnavailable when the file cannot be opened or stays locked."""

    path: Path
    rate_per_minute: float
    burst: int

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the job store {self.path}: {exc}",
                                   hint="check VODFLEET_STATE_DIR / VODFLEET_STORE_URL and the disk") from exc
        try:
            conn.execute(_SCHEMA)
            yield conn
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"job store {self.path}: {exc}",
                                   hint="another process may hold the database; retry") from exc
        finally:
            conn.close()

    def take(self, key: str, now: float) -> float:
        del now
        with self._conn() as conn, transaction(conn, write=True):
            clock = time.time()
            row = conn.execute("SELECT tokens, at FROM api_buckets WHERE key = ?", (key,)).fetchone()
            tokens, at = (float(row[0]), float(row[1])) if row else (float(self.burst), clock)
            left, wait = refill(tokens, at, clock, rate_per_minute=self.rate_per_minute, burst=self.burst)
            conn.execute("INSERT OR REPLACE INTO api_buckets (key, tokens, at) VALUES (?, ?, ?)", (key, left, clock))
            return wait


_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate = tonumber(ARGV[1]) / 60.0
local burst = tonumber(ARGV[2])
local level = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(level[1]) or burst
local at = tonumber(level[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """Levels in the Redis job store (`url`), updated atomically by a server-side script on the server's clock.
    Raises StoreUnavailable when Redis cannot be reached."""

    def __init__(self, url: str, rate_per_minute: float, burst: int) -> None:
        import redis  # noqa: PLC0415 - the driver loads only for a Redis store

        self.url = url
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10)
        self._take = self._redis.register_script(_TAKE)

    def take(self, key: str, now: float) -> float:
        from redis.exceptions import RedisError  # noqa: PLC0415

        del now
        try:
            return float(str(self._take(keys=[f"vodfleet:api:bucket:{key}"],
                                        args=[self.rate_per_minute, self.burst])))
        except RedisError as exc:
            raise StoreUnavailable(f"job store {self.url}: {exc}",
                                   hint="check that Redis is reachable (VODFLEET_STORE_URL)") from exc


def shared_buckets(store_url: str, rate_per_minute: float, burst: int) -> Buckets:
    """The buckets of the fleet's job store (``sqlite:///…`` or ``redis://…``); in-process ones for another."""
    if store_url.startswith("sqlite:///"):
        path = Path(store_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteBuckets(path, rate_per_minute, burst)
    if store_url.startswith(("redis://", "rediss://")):
        return RedisBuckets(store_url, rate_per_minute, burst)
    return TokenBuckets(rate_per_minute, burst)

"""The webhook outbox: one row per event, kept beside the job store (same SQLite file or Redis database).

    pending ──(2xx)──► delivered
       │ └─(error)──► pending again at next_at (tries + 1) ──(tries = max)──► abandoned
       └─ claimed: next_at pushed past now by the deliverer that took it (one sender at a time)

Rows are never deleted by the fleet: they are the record of what was sent. A restarted worker finds
pending rows (and re-scans job histories) and carries on.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from workers.errors import JobError, StoreUnavailable
from workers.store.transaction import transaction
from workers.webhooks.event import WebhookEvent

PENDING, DELIVERED, ABANDONED = "pending", "delivered", "abandoned"


@dataclass(frozen=True)
class OutboxEntry:
    event: WebhookEvent
    status: str
    tries: int
    next_at: float
    last_error: str = ""
    delivered_at: float | None = None


class Outbox(Protocol):
    def add(self, event: WebhookEvent, *, now: float) -> bool: ...
    def get(self, event_id: str) -> OutboxEntry | None: ...
    def due(self, now: float, limit: int = 50) -> list[str]: ...
    def claim(self, event_id: str, now: float, until: float) -> OutboxEntry | None: ...
    def finish(self, event_id: str, *, status: str, tries: int, next_at: float, error: str = "",
               delivered_at: float | None = None) -> None: ...


def open_outbox(store_url: str) -> Outbox:
    if store_url.startswith("sqlite:///"):
        return SQLiteOutbox(Path(store_url.removeprefix("sqlite:///")))
    if store_url.startswith(("redis://", "rediss://")):
        return RedisOutbox(store_url)
    raise JobError(f"store_url {store_url!r}: no outbox for this scheme", code="config_invalid")


_SCHEMA = """CREATE TABLE IF NOT EXISTS webhook_outbox (event_id TEXT PRIMARY KEY, job_id TEXT NOT NULL,
url TEXT NOT NULL, body BLOB NOT NULL, status TEXT NOT NULL, tries INTEGER NOT NULL, next_at REAL NOT NULL,
last_error TEXT NOT NULL DEFAULT '', delivered_at REAL);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (status, next_at);"""
_COLUMNS = "event_id, job_id, url, body, status, tries, next_at, last_error, delivered_at"


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    event_id, job_id, url, body, status, tries, next_at, error, delivered = row
    return OutboxEntry(WebhookEvent(str(event_id), str(job_id), str(url), bytes(cast("bytes", body))), str(status),
                       int(cast("int", tries)), float(cast("float", next_at)), str(error),
                       None if delivered is None else float(cast("float", delivered)))


class SQLiteOutbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"outbox {self.path}: {exc}") from exc
        try:
            conn.executescript(_SCHEMA)
            with transaction(conn):
                yield conn
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"outbox {self.path}: {exc}") from exc
        finally:
            conn.close()

    def add(self, event: WebhookEvent, *, now: float) -> bool:
        with self._tx() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO webhook_outbox (event_id, job_id, url, body, status, tries, "
                               "next_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                               (event.event_id, event.job_id, event.url, event.body, PENDING, now))
            return cur.rowcount == 1

    def get(self, event_id: str) -> OutboxEntry | None:
        with self._tx() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM webhook_outbox WHERE event_id = ?",  # noqa: S608 - constant
                               (event_id,)).fetchone()
        return _entry(row) if row else None

    def due(self, now: float, limit: int = 50) -> list[str]:
        with self._tx() as conn:
            rows = conn.execute("SELECT event_id FROM webhook_outbox WHERE status = ? AND next_at <= ? "
                                "ORDER BY next_at LIMIT ?", (PENDING, now, limit)).fetchall()
        return [str(r[0]) for r in rows]

    def claim(self, event_id: str, now: float, until: float) -> OutboxEntry | None:
        with self._tx() as conn:
            cur = conn.execute("UPDATE webhook_outbox SET next_at = ? WHERE event_id = ? AND status = ? "
                               "AND next_at <= ?", (until, event_id, PENDING, now))
            if cur.rowcount != 1:
                return None
            row = conn.execute(f"SELECT {_COLUMNS} FROM webhook_outbox WHERE event_id = ?",  # noqa: S608
                               (event_id,)).fetchone()
        return _entry(row)

    def finish(self, event_id: str, *, status: str, tries: int, next_at: float, error: str = "",
               delivered_at: float | None = None) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE webhook_outbox SET status = ?, tries = ?, next_at = ?, last_error = ?, "
                         "delivered_at = ? WHERE event_id = ?",
                         (status, tries, next_at, error[:500], delivered_at, event_id))


_P = "vodfleet:outbox:"
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""


class RedisOutbox:
    """``vodfleet:outbox:<event id>`` a JSON row; ``vodfleet:outbox:due`` pending ids scored by next_at."""

    def __init__(self, url: str) -> None:
        import redis  # noqa: PLC0415 - the driver loads with its backend

        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10)
        self._claim = self._redis.register_script(_CLAIM)

    def _row(self, event_id: str) -> dict[str, object] | None:
        text = cast("str | None", self._redis.get(_P + event_id))
        return cast("dict[str, object]", json.loads(text)) if text else None

    def add(self, event: WebhookEvent, *, now: float) -> bool:
        row = {"event_id": event.event_id, "job_id": event.job_id, "url": event.url, "body": event.body.decode(),
               "status": PENDING, "tries": 0, "next_at": now, "last_error": "", "delivered_at": None}
        if not self._redis.set(_P + event.event_id, json.dumps(row), nx=True):
            return False
        self._redis.zadd(_P + "due", {event.event_id: now})
        return True

    def get(self, event_id: str) -> OutboxEntry | None:
        row = self._row(event_id)
        if row is None:
            return None
        return _entry((row["event_id"], row["job_id"], row["url"], str(row["body"]).encode(), row["status"],
                       row["tries"], row["next_at"], row["last_error"], row["delivered_at"]))

    def due(self, now: float, limit: int = 50) -> list[str]:
        return list(cast("list[str]", self._redis.zrangebyscore(_P + "due", "-inf", now, start=0, num=limit)))

    def claim(self, event_id: str, now: float, until: float) -> OutboxEntry | None:
        if int(cast("int", self._claim(keys=[_P + "due"], args=[event_id, now, until]))) != 1:
            return None
        return self.get(event_id)

    def finish(self, event_id: str, *, status: str, tries: int, next_at: float, error: str = "",
               delivered_at: float | None = None) -> None:
        row = self._row(event_id)
        if row is None:
            return
        row.update(status=status, tries=tries, next_at=next_at, last_error=error[:500], delivered_at=delivered_at)
        with self._redis.pipeline() as pipe:
            pipe.set(_P + event_id, json.dumps(row))
            if status == PENDING:
                pipe.zadd(_P + "due", {event_id: next_at})
            else:
                pipe.zrem(_P + "due", event_id)
            pipe.execute()


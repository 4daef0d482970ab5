"""SQLiteStore: the embedded job state store (one file, WAL mode, safe across processes).

Every write is one ``BEGIN IMMEDIATE`` transaction on a fresh connection (SQLite serialises writers
across processes; ``busy_timeout`` waits instead of failing). Lease expiry uses wall-clock time,
which every process on one host shares.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from workers.errors import JobNotFound, StoreUnavailable
from workers.jobs.state import JobRecord, JobState
from workers.store.base import Fence, lease_lost
from workers.store.transaction import transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, created REAL NOT NULL,
                                 record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
CREATE TABLE IF NOT EXISTS leases (job_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL);
"""


class SQLiteStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(url.removeprefix("sqlite:///"))
        self._ready = False

    @contextlib.contextmanager
    def _tx(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        try:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the job store {self.path}: {exc}",
                                   hint="check VODFLEET_STATE_DIR / VODFLEET_STORE_URL and the disk") from exc
        try:
            if not self._ready:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                self._ready = True
            conn.execute("PRAGMA synchronous=NORMAL")
            with transaction(conn, write=write):
                yield conn
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"job store {self.path}: {exc}",
                                   hint="another process may hold the database; retry") from exc
        finally:
            conn.close()

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        with self._tx(write=True) as conn:
            row = conn.execute("SELECT record FROM jobs WHERE id = ?", (record.job_id,)).fetchone()
            if row:
                return JobRecord.model_validate_json(row[0]), False
            conn.execute("INSERT INTO jobs (id, state, created, record) VALUES (?, ?, ?, ?)",
                         (record.job_id, record.state.value, record.created, record.model_dump_json()))
            return record, True

    def get(self, job_id: str) -> JobRecord | None:
        with self._tx(write=False) as conn:
            row = conn.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRecord.model_validate_json(row[0]) if row else None

    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord], *, fence: Fence | None = None) -> JobRecord:
        with self._tx(write=True) as conn:
            row = conn.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if not row:
                raise JobNotFound(f"no job {job_id}", hint="list jobs with `vodfleet jobs`")
            if fence is not None:  # checked in the same BEGIN IMMEDIATE transaction as the write
                lease = conn.execute("SELECT owner, expires FROM leases WHERE job_id = ?", (fence.lease_id,)).fetchone()
                if lease is None or lease[0] != fence.owner or lease[1] <= time.time():
                    raise lease_lost(job_id, fence, None if lease is None else str(lease[0]))
            record = change(JobRecord.model_validate_json(row[0]))
            conn.execute("UPDATE jobs SET state = ?, record = ? WHERE id = ?",
                         (record.state.value, record.model_dump_json(), job_id))
        return record

    def jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[JobRecord]:
        query = "SELECT record FROM jobs"
        params: tuple[object, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            params = (state.value,)
        with self._tx(write=False) as conn:
            rows = conn.execute(query + " ORDER BY created DESC LIMIT ?", (*params, limit)).fetchall()
        return [JobRecord.model_validate_json(r[0]) for r in rows]

    def acquire(self, job_id: str, owner: str, ttl: float) -> bool:
        now = time.time()
        with self._tx(write=True) as conn:
            row = conn.execute("SELECT owner, expires FROM leases WHERE job_id = ?", (job_id,)).fetchone()
            if row and row[1] > now:
                return False
            conn.execute("INSERT OR REPLACE INTO leases (job_id, owner, expires) VALUES (?, ?, ?)",
                         (job_id, owner, now + ttl))
            return True

    def renew(self, job_id: str, owner: str, ttl: float) -> bool:
        now = time.time()
        with self._tx(write=True) as conn:
            cur = conn.execute("UPDATE leases SET expires = ? WHERE job_id = ? AND owner = ? AND expires > ?",
                               (now + ttl, job_id, owner, now))
            return cur.rowcount == 1

    def release(self, job_id: str, owner: str) -> None:
        with self._tx(write=True) as conn:
            conn.execute("DELETE FROM leases WHERE job_id = ? AND owner = ?", (job_id, owner))

    def expired(self) -> list[str]:
        with self._tx(write=False) as conn:
            rows = conn.execute("SELECT job_id FROM leases WHERE expires <= ? ORDER BY expires",
                                (time.time(),)).fetchall()
        return [r[0] for r in rows]

    def leases(self) -> dict[str, str]:
        with self._tx(write=False) as conn:
            rows = conn.execute("SELECT job_id, owner FROM leases WHERE expires > ?", (time.time(),)).fetchall()
        return {r[0]: r[1] for r in rows}

    def reclaim(self, job_id: str) -> bool:
        with self._tx(write=True) as conn:
            cur = conn.execute("DELETE FROM leases WHERE job_id = ? AND expires <= ?", (job_id, time.time()))
            return cur.rowcount == 1

    def close(self) -> None:
        """Nothing to close: every call opens and closes its own connection."""

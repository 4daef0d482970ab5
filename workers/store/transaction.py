"""One SQLite transaction on an open connection, shared by the job store and the webhook outbox."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """BEGIN (IMMEDIATE for a writer: the lock is taken up front, so read-modify-write cannot interleave),
    COMMIT on success, ROLLBACK on any exception (which is re-raised)."""
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

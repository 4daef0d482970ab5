"""Job records and leases: the store Protocol (`base`), how a record changes (`ops`), and two backends: SQLite
(`sqlite`, embedded, one file) and Redis (`redis`, a fleet). `open_store` is the only place that names a backend.
"""

from __future__ import annotations

from workers.errors import JobError
from workers.store.base import JobStore

__all__ = ["JobStore", "open_store"]


def open_store(url: str) -> JobStore:
    """``sqlite:////abs/path/jobs.sqlite`` or ``redis://host:port/db`` → its backend (no I/O until first use).

    Raises JobError (config_invalid) for another scheme."""
    if url.startswith("sqlite:///"):
        from workers.store.sqlite import SQLiteStore  # noqa: PLC0415 - the backend's driver loads on use

        return SQLiteStore(url)
    if url.startswith(("redis://", "rediss://")):
        from workers.store.redis import RedisStore  # noqa: PLC0415

        return RedisStore(url)
    raise JobError(f"store_url {url!r}: unsupported scheme", code="config_invalid",
                   hint="allowed: sqlite:////path/jobs.sqlite, redis://host:port/db")

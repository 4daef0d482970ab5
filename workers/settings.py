"""Settings of the fleet: typed, validated at construction, read from ``VODFLEET_*`` variables. No I/O here.

| variable                      | default                                          |
|-------------------------------|--------------------------------------------------|
| VODFLEET_STATE_DIR            | $XDG_STATE_HOME/vodfleet (~/.local/state/vodfleet) |
| VODFLEET_BROKER_URL           | filesystem:// (folders under <state>/broker)     |
| VODFLEET_STORE_URL            | sqlite:///<state>/jobs.sqlite                    |
| VODFLEET_STORAGE_URI          | file://<state>/storage                           |
| VODFLEET_SCRATCH_DIR          | <state>/scratch                                  |
| VODFLEET_CONCURRENCY          | 1 (jobs at once per worker process)              |
| VODFLEET_TIME_LIMIT_FACTOR    | 30 (seconds of wall time per second of source)   |
| VODFLEET_TIME_LIMIT_BASE      | 300 s; VODFLEET_TIME_LIMIT_MAX 21600 s           |
| VODFLEET_LEASE_TTL            | 60 s (renewed every ttl/3 while a job runs)      |
| VODFLEET_MAX_ATTEMPTS         | 3 (deliveries before "attempts_exhausted")       |
| VODFLEET_WATCHDOG_INTERVAL    | 10 s                                             |
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BROKER_SCHEMES = ("filesystem", "redis", "rediss", "amqp", "pyamqp", "sqla+sqlite")
STORE_SCHEMES = ("sqlite", "redis", "rediss")
STORAGE_SCHEMES = ("file", "s3")


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(base) / "vodfleet"


def _scheme(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None:
        return None
    scheme = value.partition("://")[0]
    if "://" not in value or scheme not in allowed:
        raise ValueError(f"{field}={value!r}: scheme must be one of {', '.join(s + '://' for s in allowed)}")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VODFLEET_", frozen=True, extra="forbid")

    state_dir: Path = Field(default_factory=default_state_dir)
    broker_url: str | None = None
    store_url: str | None = None
    storage_uri: str | None = None
    scratch_dir: Path | None = None
    concurrency: int = Field(default=1, ge=1, le=64)
    time_limit_factor: float = Field(default=30.0, ge=1, le=1000)
    time_limit_base: float = Field(default=300.0, ge=10, le=86400)
    time_limit_max: float = Field(default=21600.0, ge=60, le=7 * 86400)
    lease_ttl: float = Field(default=60.0, ge=1, le=3600)
    max_attempts: int = Field(default=3, ge=1, le=20)
    watchdog_interval: float = Field(default=10.0, ge=0.2, le=3600)

    @field_validator("state_dir", "scratch_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(os.path.abspath(value.expanduser()))  # noqa: PTH100 - no I/O

    @field_validator("broker_url")
    @classmethod
    def _broker(cls, value: str | None) -> str | None:
        return _scheme(value, BROKER_SCHEMES, "broker_url")

    @field_validator("store_url")
    @classmethod
    def _store(cls, value: str | None) -> str | None:
        return _scheme(value, STORE_SCHEMES, "store_url")

    @field_validator("storage_uri")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        return _scheme(value, STORAGE_SCHEMES, "storage_uri")

    # --- derived (defaults under the state folder) -------------------------------------------------------

    @property
    def broker(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return self.state_dir / "broker"

    @property
    def store(self) -> str:
        return self.store_url or f"sqlite:///{self.state_dir / 'jobs.sqlite'}"

    @property
    def storage(self) -> str:
        return self.storage_uri or f"file://{self.state_dir / 'storage'}"

    @property
    def scratch(self) -> Path:
        return self.scratch_dir or self.state_dir / "scratch"

    def time_limits(self, duration: float | None) -> tuple[float, float]:
        """(soft, hard) seconds for one job of a source this long (None: unknown → the maximum)."""
        hard = self.time_limit_max if duration is None else min(
            self.time_limit_max, self.time_limit_base + self.time_limit_factor * duration)
        return hard * 0.9, hard

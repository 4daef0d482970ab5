"""Settings of the fleet: typed, validated at construction, read from ``VODFLEET_*`` variables. No I/O here.

Keyword arguments win over the environment, the environment over the defaults; variable names are matched
case-insensitively (`EnvironmentModel`).

| variable                      | default                                          |
|-------------------------------|--------------------------------------------------|
| VODFLEET_STATE_DIR            | $XDG_STATE_HOME/vodfleet (~/.local/state/vodfleet) |
| VODFLEET_BROKER_URL           | filesystem://localhost/ (folders under <state>/broker) |
| VODFLEET_STORE_URL            | sqlite:///<state>/jobs.sqlite                    |
| VODFLEET_STORAGE_URI          | file://<state>/storage                           |
| VODFLEET_SCRATCH_DIR          | <state>/scratch                                  |
| VODFLEET_CONCURRENCY          | 1 (jobs at once per worker process)              |
| VODFLEET_TIME_LIMIT_FACTOR    | 30 (seconds of wall time per second of source)   |
| VODFLEET_TIME_LIMIT_BASE      | 300 s; VODFLEET_TIME_LIMIT_MAX 21600 s           |
| VODFLEET_LEASE_TTL            | 60 s (renewed every ttl/3 while a job runs)      |
| VODFLEET_MAX_ATTEMPTS         | 3 (deliveries before "attempts_exhausted")       |
| VODFLEET_WATCHDOG_INTERVAL    | 10 s (also how often a worker's sweeps run)      |
| VODFLEET_STORAGE_OUTAGE_BUDGET | 15 min of storage/store outage retried (not counted as attempts) |
| VODFLEET_CLAIM_GRACE          | 3600 s: an uncommitted version claim older than this is swept |
| VODFLEET_BROKER_PROCESSED_KEEP | 3600 s: embedded broker's processed/ files kept this long |
| VODFLEET_BROKER_PROCESSED_MAX | 1000: … and at most this many (newest kept)      |
| VODFLEET_CHUNK_THRESHOLD      | 300 s: longer masters are split into chunk tasks (submit --chunks auto) |
| VODFLEET_CHUNK_TARGET         | 45 s of source per chunk task (never under 8 s)  |
| VODFLEET_S3_ENDPOINT_URL      | none: AWS (or AWS_ENDPOINT_URL_S3); any S3-compatible server's URL |
| VODFLEET_S3_REGION            | us-east-1                                        |
| VODFLEET_S3_ACCESS_KEY        | none: boto3's chain (AWS_ACCESS_KEY_ID, profile, instance role) |
| VODFLEET_S3_SECRET_KEY        | none (set with the access key, or neither)       |
| VODFLEET_S3_MAX_ATTEMPTS      | 5 (botocore standard retries per S3 call)        |
| VODFLEET_METRICS_PORT         | none: a worker serves its own /metrics on this port |
| VODFLEET_WEBHOOK_SECRET       | none: webhook bodies unsigned (else HMAC-SHA256) |
| VODFLEET_WEBHOOK_TIMEOUT      | 10 s per delivery request                        |
| VODFLEET_WEBHOOK_MAX_ATTEMPTS | 10 tries per event, then it is abandoned (kept)  |
| VODFLEET_WEBHOOK_BACKOFF_BASE | 2 s (full jitter, doubling); _BACKOFF_MAX 600 s  |
| VODFLEET_WEBHOOK_INTERVAL     | 1 s between outbox scans                         |
| VODFLEET_WEBHOOK_ALLOW        | none: webhooks to internal addresses are refused; CIDRs/hosts allowed anyway |

The S3 settings apply to every s3:// location the fleet opens: its storage and s3:// sources of a job.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from pipelines.chunk import ChunkPolicy
from workers.errors import SettingsInvalid

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_webhook_allow(text: str | None) -> tuple[tuple[IPNetwork, ...], frozenset[str]]:
    """``VODFLEET_WEBHOOK_ALLOW`` ``"127.0.0.1/32, 10.0.0.0/8, hooks.internal"`` → (networks, host names) (pure);
    ValueError names a bad entry. `workers.webhooks.target.Allowlist` is built from it."""
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    for raw in (text or "").split(","):
        entry = raw.strip().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if not name or any(not (c.isalnum() or c in "-.") for c in name):
            raise ValueError(f"webhook_allow entry {raw.strip()!r}: expected a CIDR (10.0.0.0/8), an address "
                             "or a host name")
        hosts.add(name)
    return tuple(networks), frozenset(hosts)


BROKER_SCHEMES = ("filesystem", "redis", "rediss", "amqp", "pyamqp", "sqla+sqlite")
STORE_SCHEMES = ("sqlite", "redis", "rediss")
STORAGE_SCHEMES = ("file", "s3")
# The embedded broker. Its folders come from the transport options, so the host means nothing to kombu's
# filesystem transport, but a URL without one makes kombu log "No hostname was supplied. Reverting to default
# 'localhost'" on every connection it clones (Celery's producer pool clones one per send): name it here.
EMBEDDED_BROKER = "filesystem://localhost/"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(base) / "vodfleet"


def _scheme(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    scheme = value.partition("://")[0]
    if "://" not in value or scheme not in allowed:
        raise ValueError(f"scheme must be one of {', '.join(s + '://' for s in allowed)}")
    return value


class EnvironmentModel(BaseModel):
    """A pydantic model whose fields also come from environment variables ``<env_prefix><FIELD>``.

    Priority as in pydantic-settings: keyword arguments, then the environment, then the defaults; pydantic
    parses and validates the strings. Why not pydantic-settings itself: its import loads asyncio and its
    CLI/dotenv/cloud sources, about 50 ms of every ``vodfleet`` command's start (``vodfleet submit`` has 0.3 s
    of its own in all, bench/bench_submit.py); these models need only flat scalar variables.
    """

    env_prefix: ClassVar[str] = ""

    def __init__(self, **data: Any) -> None:
        """Validate keywords + environment + defaults; SettingsInvalid names each refused variable."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise settings_invalid(exc, type(self).env_prefix, data) from exc

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {**environment_values(cls.env_prefix, cls.model_fields, os.environ), **data}


def settings_invalid(exc: ValidationError, prefix: str, given: Mapping[str, object]) -> SettingsInvalid:
    """pydantic's report → one coded error naming each refused variable (``VODFLEET_CONCURRENCY='abc'``), or the
    keyword when the value came from code, with the rule it broke (pure). Secret values are not repeated."""
    problems = []
    for error in exc.errors(include_url=False):
        rule = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule across fields: its message names the variables
            problems.append(rule)
            continue
        field = str(error["loc"][0])
        name = field if field in given else f"{prefix}{field.upper()}"
        value = "(hidden)" if "secret" in field else repr(error.get("input"))
        problems.append(f"{name}={value}: {rule}")
    return SettingsInvalid("settings refused: " + "; ".join(problems),
                           hint="fix or unset the named variables (README, \"Settings\": each variable, its default "
                                "and its range)")


def environment_values(prefix: str, fields: Mapping[str, object], environ: Mapping[str, str]) -> dict[str, str]:
    """The variables ``<prefix><FIELD>`` (any case) of `environ` that name one of `fields`, by field (pure)."""
    start = len(prefix)
    upper = prefix.upper()
    found: dict[str, str] = {}
    for key, value in environ.items():
        if len(key) > start and key.upper().startswith(upper):
            name = key[start:].lower()
            if name in fields:
                found[name] = value
    return found


class Settings(EnvironmentModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    env_prefix: ClassVar[str] = "VODFLEET_"

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
    # a job (or chunk part) queued this long past when it was due, with no lease and no message waiting in its
    # queue, lost its message (a worker killed between taking it and the lease, or a broker that dropped it): the
    # watchdog sends it again (`workers.delivery.watchdog`)
    lost_message_after: float = Field(default=120.0, ge=1, le=86400)
    # Sweeps (workers.delivery.sweep, README "Sweeps"): how long a storage outage is retried, in minutes, and
    # how old an uncommitted version claim must be before its partial version is removed
    storage_outage_budget: float = Field(default=15.0, ge=0, le=24 * 60)
    claim_grace: float = Field(default=3600.0, ge=0, le=30 * 86400)
    broker_processed_keep: float = Field(default=3600.0, ge=0, le=30 * 86400)
    broker_processed_max: int = Field(default=1000, ge=0, le=1_000_000)
    # Split-and-stitch (`--chunks auto`): masters longer than the threshold become chunk tasks of about
    # chunk_target seconds of source each (never under 8 s); size them to end well inside a grace period.
    chunk_threshold: float = Field(default=300.0, ge=8, le=86400)
    chunk_target: float = Field(default=45.0, ge=8, le=3600)
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_max_attempts: int = Field(default=5, ge=1, le=20)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # a worker's own /metrics (workers.metrics.worker)
    webhook_secret: SecretStr | None = None  # HMAC-SHA256 key of X-Vodfleet-Signature (workers.webhooks.deliverer)
    webhook_timeout: float = Field(default=10.0, ge=0.1, le=120)
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_backoff_base: float = Field(default=2.0, ge=0.01, le=3600)
    webhook_backoff_max: float = Field(default=600.0, ge=0.1, le=86400)
    webhook_interval: float = Field(default=1.0, ge=0.05, le=3600)  # how often the outbox is scanned
    # Internal webhook receivers allowed anyway (workers.webhooks.target): "10.0.0.0/8,hooks.internal"
    webhook_allow: str | None = None

    @field_validator("state_dir", "scratch_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(os.path.abspath(value.expanduser()))  # noqa: PTH100 - no I/O

    @field_validator("broker_url")
    @classmethod
    def _broker(cls, value: str | None) -> str | None:
        return _scheme(value, BROKER_SCHEMES)

    @field_validator("store_url")
    @classmethod
    def _store(cls, value: str | None) -> str | None:
        return _scheme(value, STORE_SCHEMES)

    @field_validator("storage_uri")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        return _scheme(value, STORAGE_SCHEMES)

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_allow")
    @classmethod
    def _webhook_allow(cls, value: str | None) -> str | None:
        parse_webhook_allow(value)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _s3_keys(self) -> Settings:
        if (self.s3_access_key is None) != (self.s3_secret_key is None):
            raise ValueError("s3_access_key and s3_secret_key: set both (VODFLEET_S3_ACCESS_KEY, "
                             "VODFLEET_S3_SECRET_KEY), or neither to use boto3's credential chain")
        return self

    # --- derived (defaults under the state folder) -------------------------------------------------------

    @property
    def broker(self) -> str:
        """The broker URL Celery gets; the embedded broker's names a host (`EMBEDDED_BROKER`)."""
        url = self.broker_url or EMBEDDED_BROKER
        return EMBEDDED_BROKER if url.rstrip("/") == "filesystem:" else url

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

    def chunk_policy(self, chunks: Literal["auto"] | int) -> ChunkPolicy | None:
        """How a job's ``chunks`` asks to be cut (pure): None for 1; auto uses the fleet's threshold and target."""
        if chunks == 1:
            return None
        if chunks == "auto":
            return ChunkPolicy(threshold_seconds=self.chunk_threshold, target_seconds=self.chunk_target)
        return ChunkPolicy(count=chunks)

    def time_limits(self, duration: float | None) -> tuple[float, float]:
        """(soft, hard) seconds for one job of a source this long (None: unknown → the maximum)."""
        hard = self.time_limit_max if duration is None else min(
            self.time_limit_max, self.time_limit_base + self.time_limit_factor * duration)
        return hard * 0.9, hard

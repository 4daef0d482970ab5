"""Worker metrics: every failure/retry code and chunk outcome exists at 0 before it is first counted, so the
dashboard's ``increase()`` sees the first failure of a code (a counter born at 1 shows no increase)."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY

from workers.metrics import worker as metrics
from workers.queue.app import broker_options
from workers.queue.depth import KOMBU_REDIS_SEP, queues_from_bindings
from workers.settings import Settings

ROW = re.compile(r"^\| `([a-z][a-z0-9_]*)` \|", re.MULTILINE)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_the_codes_are_the_error_table() -> None:
    """The job failure codes: the tables before "The HTTP API" (whose codes refuse requests, never fail a job)."""
    jobs_part = DOCS.read_text(encoding="utf-8").split("\n## The HTTP API", 1)[0]
    assert list(metrics.ERROR_CODES) == ROW.findall(jobs_part)


def test_initialised_label_sets_are_exported_at_zero() -> None:
    metrics.initialise_labels()
    assert REGISTRY.get_sample_value("vodfleet_job_failures_total", {"code": "source_truncated"}) == 0.0
    assert REGISTRY.get_sample_value("vodfleet_job_retries_total", {"code": "storage_unavailable"}) == 0.0
    assert REGISTRY.get_sample_value("vodfleet_chunk_parts_total", {"outcome": "retried"}) == 0.0


def test_the_redis_broker_uses_kombus_default_key_separator() -> None:
    from kombu.transport.redis import Channel  # type: ignore[import-untyped]

    options = broker_options(Settings(broker_url="redis://127.0.0.1:6379/0"))
    assert "sep" not in options  # Flower and `celery inspect` use kombu's default
    assert Channel.sep == KOMBU_REDIS_SEP


def test_celerys_own_exchanges_are_not_queues() -> None:
    keys = [b"_kombu.binding.vodfleet.jobs.06bb292f431e", b"_kombu.binding.celery.pidbox",
            b"_kombu.binding.reply.celery.pidbox", b"_kombu.binding.celeryev", b"_kombu.binding.vodfleet.dead"]
    assert queues_from_bindings(keys) == ["vodfleet.dead", "vodfleet.jobs.06bb292f431e"]

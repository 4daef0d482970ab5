"""The Celery app: every broker and worker setting of the fleet, in one place.

- late acks, ``task_reject_on_worker_lost``, prefetch 1: a message leaves the broker only when its job is
  finished (published, failed for good, or cancelled); a lost worker's message comes back.
- per-task soft/hard time limits are passed at apply time from the source duration (`workers.queue.send`);
  Redis' ``visibility_timeout`` is set above the largest hard limit so a long encode is not redelivered
  while it runs. The lease in the state store is what guarantees one ffmpeg per job either way.
- queues: ``vodfleet.jobs`` (work) and ``vodfleet.dead`` (jobs whose attempts ran out; nobody consumes it
  by default; inspect with the broker's tools, re-submit with ``vodfleet submit --force``).
- no result backend: the state store is the one source of truth about a job.

`FleetApp` is what the rest of the fleet holds: the Celery app, the settings it was made from and (in a worker)
the encoder's fingerprint, typed, instead of attributes hung on the Celery app. The tasks are registered by the
worker (`workers.queue.tasks.register`); a producer only sends by task name and never imports the worker's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery
from kombu import Queue

from workers.fingerprint import Fingerprint
from workers.queue.names import DEAD_QUEUE, JOBS_QUEUE, MAX_PRIORITY
from workers.settings import Settings


@dataclass(frozen=True)
class FleetApp:
    """The fleet's handle on its broker: the configured Celery app, the settings, and (in a worker) its encoder."""

    celery: Celery
    settings: Settings
    fingerprint: Fingerprint | None = None  # this worker's encoder; None in a producer (submit, watch, tools)


def broker_options(settings: Settings) -> dict[str, Any]:
    """Transport options for the configured broker (pure)."""
    url = settings.broker
    if url.startswith("filesystem://"):
        folder = settings.broker_folder
        return {"data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"), "store_processed": True,
                "control_folder": str(folder / "control"), "polling_interval": 0.2}
    if url.startswith(("redis://", "rediss://")):
        return {"visibility_timeout": int(settings.time_limit_max + 2 * settings.lease_ttl + 60),
                "queue_order_strategy": "priority", "priority_steps": list(range(MAX_PRIORITY + 1))}
    # kombu's default key separator, deliberately: Flower, `celery inspect` and every other client of this
    # broker use it, and a worker with another one fails to parse their bindings (ValueError per message).
    if url.startswith("sqla+"):
        return {"polling_interval": 0.2}
    return {}


def broker_folders(settings: Settings) -> list[str]:
    """Folders the embedded broker needs (created by the commands, never by the constructor)."""
    options = broker_options(settings)
    return [options[k] for k in ("data_folder_in", "processed_folder", "control_folder") if k in options]


def prepare(settings: Settings) -> None:
    """Create the local folders the settings point at (state, embedded broker, scratch)."""
    for folder in (settings.state_dir, settings.scratch, *map(Path, broker_folders(settings))):
        folder.mkdir(parents=True, exist_ok=True)


def fleet_app(settings: Settings, fingerprint: Fingerprint | None = None) -> FleetApp:
    """The fleet's app for these settings (no connection is made here); a worker passes its own `fingerprint`."""
    return FleetApp(create_app(settings), settings, fingerprint)


# kombu's filesystem transport with whole-file writes (loaded by kombu when it connects, not at this import)
EMBEDDED_TRANSPORT = "workers.queue.embedded:Transport"


def create_app(settings: Settings) -> Celery:
    """A configured Celery app, no tasks registered, no connection made (the seam's one constructor)."""
    app = Celery("vodfleet", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker,
        broker_transport_options=broker_options(settings),
        broker_transport=EMBEDDED_TRANSPORT if settings.broker.startswith("filesystem://") else None,
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_ignore_result=True,
        result_backend=None,
        task_default_queue=JOBS_QUEUE,
        task_queues=[Queue(JOBS_QUEUE, queue_arguments={"x-max-priority": MAX_PRIORITY}),
                     Queue(DEAD_QUEUE)],
        task_queue_max_priority=MAX_PRIORITY,
        task_default_priority=5,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=not settings.broker.startswith("sqla+"),
        enable_utc=True,
    )
    return app

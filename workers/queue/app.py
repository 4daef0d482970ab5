"""The Celery app: every broker and worker setting of the fleet, in one place.

- late acks, ``task_reject_on_worker_lost``, prefetch 1: a message leaves the broker only when its job is
  finished (published, failed for good, or cancelled); a lost worker's message comes back.
- per-task soft/hard time limits are passed at apply time from the source duration (`workers.queue.send`);
  Redis' ``visibility_timeout`` is set above the largest hard limit so a long encode is not redelivered
  while it runs. The lease in the state store is what guarantees one ffmpeg per job either way.
- queues: ``vodfleet.jobs`` (work) and ``vodfleet.dead`` (jobs whose attempts ran out; nobody consumes it
  by default; inspect with the broker's tools, re-submit with ``vodfleet submit --force``).
- no result backend: the state store is the one source of truth about a job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery  # type: ignore[import-untyped]
from kombu import Queue as _Queue  # type: ignore[attr-defined]

from workers.settings import Settings

JOBS_QUEUE = "vodfleet.jobs"
DEAD_QUEUE = "vodfleet.dead"
RUN_JOB = "vodfleet.run_job"
RUN_PART = "vodfleet.run_part"  # one chunk (or the audio) of a split-and-stitch job
MAX_PRIORITY = 9
Queue: Any = _Queue  # kombu.Queue is untyped


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


def create_app(settings: Settings, *, tasks: bool = True) -> Any:
    """A configured Celery app with the fleet's tasks registered (no connection is made here). A producer that
    only sends by task name (`vodfleet submit`) passes ``tasks=False`` and never imports the worker's code."""
    app = Celery("vodfleet", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker,
        broker_transport_options=broker_options(settings),
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
    app.vodfleet_settings = settings
    if tasks:
        from workers.queue.tasks import register  # noqa: PLC0415 - tasks import this module's names

        register(app)
    return app

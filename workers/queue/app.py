"""The Celery app: every broker and worker setting of the fleet, in one place.

- late acks, ``task_reject_on_worker_lost``, prefetch 1: a message leaves the broker only when its job is
  finished (published, failed for good, or cancelled); a lost worker's message comes back.
- per-task soft/hard time limits are passed at apply time from the source duration (`workers.queue.send`);
  Redis' ``visibility_timeout`` is set above the largest hard limit so a long encode is not redelivered
  while it runs. The lease in the state store is what guarantees one ffmpeg per job either way.
- queues: ``vodfleet.jobs`` (work) and ``vodfleet.dead`` (jobs whose attempts ran out; nobody consumes it
  by default; inspect with the broker's tools, re-submit with ``vodfleet submit --force``).
- no result backend: the state store is the one source of truth about a job.

`FleetApp` is what the rest of the fleet holds: the settings, (in a worker) the encoder's fingerprint, the Celery
app made from the settings on first use, and the broker connection its senders share, typed, instead of
attributes hung on the Celery app. The tasks are registered by the worker (`workers.queue.tasks.register`); a
producer publishes by task name with kombu alone (`workers.queue.send`) and never imports Celery or the worker's
code. Every queue is declared by one rule (`declaration`), the same in the Celery app and in the producer, so a
broker that checks re-declarations (RabbitMQ) sees the same queue from both.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.fingerprint import Fingerprint
from workers.queue.names import DEAD_QUEUE, JOBS_QUEUE, MAX_PRIORITY
from workers.settings import Settings

if TYPE_CHECKING:  # Celery and kombu load when first used: a producer's start (submit) never needs Celery
    from celery import Celery
    from kombu import Connection, Queue


class FleetApp:
    """The fleet's handle on its broker: the settings, (in a worker) its encoder, the Celery app (made on first
    use) and the one broker connection this process's senders share (`connection`, under `send_lock`)."""

    def __init__(self, settings: Settings, fingerprint: Fingerprint | None = None) -> None:
        self.settings = settings
        self.fingerprint = fingerprint  # this worker's encoder; None in a producer (submit, watch, tools)
        self.send_lock = threading.Lock()  # one publish at a time on `connection` (kombu's are not thread-safe)
        self._connection: Connection | None = None

    @cached_property
    def celery(self) -> Celery:
        """The configured Celery app (`create_app`), made on first use: a worker's, or a tool's remote control."""
        return create_app(self.settings)

    @property
    def connection(self) -> Connection:
        """This process's producer connection to the broker (opened lazily by kombu; hold `send_lock`)."""
        if self._connection is None:
            self._connection = broker_connection(self.settings)
        return self._connection

    def drop_connection(self) -> None:
        """Release the producer connection (hold `send_lock`); the next send makes a new one."""
        if self._connection is not None:
            self._connection.release()
            self._connection = None

    def close(self) -> None:
        """Release the producer connection, for a process that is done sending."""
        with self.send_lock:
            self.drop_connection()


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


def redacted(url: str) -> str:
    """A broker URL without its credentials, for messages and logs (pure)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"


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
    return FleetApp(settings, fingerprint)


# kombu's filesystem transport with whole-file writes (loaded by kombu when it connects, not at this import)
EMBEDDED_TRANSPORT = "workers.queue.embedded:Transport"
CONNECT_TIMEOUT = 4.0  # seconds (Celery's broker_connection_timeout default), for the producer's connection
# a producer's (re)connect and publish retries: Celery's task_publish_retry_policy defaults (3 more tries, 0 s,
# 0.2 s, 0.4 s apart, at most 1 s); without them kombu would retry connecting for ever
PUBLISH_RETRY_POLICY: dict[str, float] = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2,
                                          "interval_max": 1}


def broker_transport(settings: Settings) -> str | None:
    """kombu's transport for the broker URL: the embedded one for ``filesystem://``, else the URL's own (pure)."""
    return EMBEDDED_TRANSPORT if settings.broker.startswith("filesystem://") else None


def broker_connection(settings: Settings) -> Connection:
    """A kombu connection to the configured broker, with the fleet's transport options (not connected yet)."""
    from kombu import Connection  # noqa: PLC0415 - kombu loads with the first send

    return Connection(settings.broker, transport=broker_transport(settings),
                      transport_options={**broker_options(settings), **PUBLISH_RETRY_POLICY},
                      connect_timeout=CONNECT_TIMEOUT)


def declaration(name: str) -> Queue:
    """How queue `name` is declared, by the worker (Celery) and by the producer alike: durable, bound to a
    direct exchange of its own name with its name as the routing key, priorities 0..MAX_PRIORITY. This is
    Celery's rule for a queue it creates on demand (``Queues.new_missing`` with ``task_queue_max_priority``),
    so every queue follows it, the configured and the per-encoder ones."""
    from kombu import Exchange, Queue  # noqa: PLC0415

    return Queue(name, Exchange(name, "direct"), routing_key=name, queue_arguments={"x-max-priority": MAX_PRIORITY})


def create_app(settings: Settings) -> Celery:
    """A configured Celery app, no tasks registered, no connection made (the seam's one constructor)."""
    from celery import Celery  # noqa: PLC0415 - only a worker and the remote-control tools need it

    app = Celery("vodfleet", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker,
        broker_transport_options=broker_options(settings),
        broker_transport=broker_transport(settings),
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_ignore_result=True,
        result_backend=None,
        task_default_queue=JOBS_QUEUE,
        task_queues=[declaration(JOBS_QUEUE), declaration(DEAD_QUEUE)],
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

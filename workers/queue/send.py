"""Sending: put a job's message (its id, nothing else) on the broker, with its time limits and priority;
or one part of a chunked job (its id and the part's index).

The queue is the one of the encoder the job is pinned to (`workers.queue.routing`). The message is Celery's
(`workers.queue.message`), published with kombu as Celery's ``send_task`` does: to the default exchange with the
queue's name as the routing key, the queue declared first (`workers.queue.app.declaration`), persistent, retried
on a broken connection (Celery's ``task_publish_retry_policy`` defaults); a broker still unreachable after them
raises `workers.errors.BrokerUnavailable`.
"""

from __future__ import annotations

import uuid
from typing import Any

from workers.errors import BrokerUnavailable
from workers.jobs.state import JobRecord
from workers.queue.app import PUBLISH_RETRY_POLICY, FleetApp, declaration, redacted
from workers.queue.message import TaskMessage, origin, task_message
from workers.queue.names import DEAD_QUEUE, MAX_PRIORITY, RUN_JOB, RUN_PART
from workers.queue.routing import queue_for

PERSISTENT = 2  # AMQP delivery mode: the broker keeps the message across its restart


def broker_priority(broker_url: str, priority: int) -> int:
    """JobSpec priority (9 = most urgent) → the broker's number (Redis sorts 0 first; AMQP 9 first) (pure)."""
    if broker_url.startswith(("redis://", "rediss://")):
        return MAX_PRIORITY - priority
    return priority


def enqueue(app: FleetApp, record: JobRecord, *, countdown: float = 0.0, dead: bool = False) -> str:
    """Send the job; return the task id (``<job id>.<random>``: one per delivery chain, for logs)."""
    settings = app.settings
    soft, hard = settings.time_limits(record.duration)
    task_id = f"{record.job_id}.{uuid.uuid4().hex[:8]}"
    queue = DEAD_QUEUE if dead else queue_for(record.encoder)
    message = task_message(RUN_JOB, task_id, [record.job_id], soft_time_limit=soft, time_limit=hard,
                           countdown=countdown, sender=origin())
    publish(app, message, queue, broker_priority(settings.broker, record.spec.priority))
    return task_id


def enqueue_part(app: FleetApp, record: JobRecord, index: int, *, countdown: float = 0.0) -> str:
    """Send one part (chunk `index`, or the audio) of a chunked job to the job's encoder queue."""
    settings = app.settings
    part = record.chunks.part(index) if record.chunks else None
    soft, hard = settings.time_limits(part.end - part.start if part else None)
    task_id = f"{record.job_id}.part{index}.{uuid.uuid4().hex[:8]}"
    message = task_message(RUN_PART, task_id, [record.job_id, index], soft_time_limit=soft, time_limit=hard,
                           countdown=countdown, sender=origin())
    publish(app, message, queue_for(record.encoder), broker_priority(settings.broker, record.spec.priority))
    return task_id


def publish(app: FleetApp, message: TaskMessage, queue: str, priority: int) -> None:
    """Publish `message` to `queue` (declared first) on the app's shared connection, as Celery's send_task.
    Raises BrokerUnavailable (naming the task, the queue and the broker) when the broker cannot take it."""
    from kombu.exceptions import OperationalError  # noqa: PLC0415 - kombu loads with the first send

    target = declaration(queue)
    properties: dict[str, Any] = {**message.properties, "priority": priority}
    with app.send_lock:
        try:
            producer = app.connection.Producer(serializer="json")
            producer.publish(message.body, exchange="", routing_key=queue, declare=[target],
                             headers=message.headers, delivery_mode=PERSISTENT, retry=True,
                             retry_policy=PUBLISH_RETRY_POLICY, **properties)
        except (OperationalError, OSError) as exc:
            app.drop_connection()  # the next send connects afresh
            raise BrokerUnavailable(
                f"cannot send {message.headers['id']} to queue {queue} on {redacted(app.settings.broker)}: {exc}",
                hint="check VODFLEET_BROKER_URL and that the broker is up, then submit the same job again (a job "
                     "stored but not started has its message sent again); a worker's watchdog also sends it after "
                     "VODFLEET_LOST_MESSAGE_AFTER") from exc

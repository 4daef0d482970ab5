"""Sending: put a job's message (its id, nothing else) on the broker, with its time limits and priority;
or one part of a chunked job (its id and the part's index).

The queue is the one of the encoder the job is pinned to (`workers.queue.routing`).
"""

from __future__ import annotations

import uuid

from workers.jobs.state import JobRecord
from workers.queue.app import FleetApp
from workers.queue.names import DEAD_QUEUE, MAX_PRIORITY, RUN_JOB, RUN_PART
from workers.queue.routing import queue_for


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
    app.celery.send_task(RUN_JOB, args=[record.job_id], task_id=task_id, queue=queue,
                         priority=broker_priority(settings.broker, record.spec.priority),
                         soft_time_limit=soft, time_limit=hard,  # type: ignore[arg-type]  # seconds: float works
                         countdown=countdown or None)
    return task_id


def enqueue_part(app: FleetApp, record: JobRecord, index: int, *, countdown: float = 0.0) -> str:
    """Send one part (chunk `index`, or the audio) of a chunked job to the job's encoder queue."""
    settings = app.settings
    part = record.chunks.part(index) if record.chunks else None
    soft, hard = settings.time_limits(part.end - part.start if part else None)
    task_id = f"{record.job_id}.part{index}.{uuid.uuid4().hex[:8]}"
    app.celery.send_task(RUN_PART, args=[record.job_id, index], task_id=task_id, queue=queue_for(record.encoder),
                         priority=broker_priority(settings.broker, record.spec.priority),
                         soft_time_limit=soft, time_limit=hard,  # type: ignore[arg-type]  # (the stubs say int)
                         countdown=countdown or None)
    return task_id

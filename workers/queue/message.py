"""TaskMessage: one task message in Celery's message protocol version 2, built without Celery (pure).

A producer (`vodfleet submit`, the API, a worker's retries and resends) publishes with kombu alone
(`workers.queue.send`): importing and setting up Celery was about a third of submit's own time
(bench/bench_submit.py). The workers are Celery and take these messages as their own. The layout is Celery's
"Message Protocol" (version 2) as ``celery.app.amqp.AMQP.as_task_v2`` writes it:

- headers: lang, task, id, root_id, parent_id, group, eta, expires, retries, timelimit ``[hard, soft]``,
  argsrepr, kwargsrepr, origin, ...;
- body: ``[args, kwargs, {callbacks, errbacks, chain, chord}]``;
- properties: correlation_id (the task id), reply_to.

tests/queue/test_task_message.py compares a message of this module with one Celery's own ``send_task`` writes.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Body = tuple[list[Any], dict[str, Any], dict[str, Any]]


@dataclass(frozen=True)
class TaskMessage:
    """What kombu publishes: headers, message properties and the JSON body (args, kwargs, embed)."""

    headers: dict[str, Any]
    properties: dict[str, Any]
    body: Body


def origin() -> str:
    """The sender's node name as Celery writes it for a producer that is not a worker: ``gen<pid>@<host>``."""
    return f"gen{os.getpid()}@{socket.gethostname()}"


def task_message(name: str, task_id: str, args: list[Any], *, soft_time_limit: float, time_limit: float,
                 countdown: float = 0.0, now: datetime | None = None, sender: str = "") -> TaskMessage:
    """A protocol-2 message for task `name` with positional `args` (pure).

    `soft_time_limit`, `time_limit`: seconds (the worker raises SoftTimeLimitExceeded, then kills);
    `countdown`: seconds before a worker may run it (written as the ``eta`` header, ISO 8601 in UTC, from `now`);
    `sender`: the ``origin`` header (`origin()`). ValueError for a negative time limit or countdown.
    """
    if soft_time_limit < 0 or time_limit < 0 or countdown < 0:
        raise ValueError(f"task {name}: time limits and countdown are seconds >= 0 "
                         f"(soft {soft_time_limit}, hard {time_limit}, countdown {countdown})")
    eta = None
    if countdown:
        eta = ((now or datetime.now(UTC)) + timedelta(seconds=countdown)).isoformat()
    headers: dict[str, Any] = {
        "lang": "py", "task": name, "id": task_id, "shadow": None, "eta": eta, "expires": None, "group": None,
        "group_index": None, "retries": 0, "timelimit": [time_limit, soft_time_limit], "root_id": task_id,
        "parent_id": None, "argsrepr": repr(args), "kwargsrepr": "{}", "origin": sender, "ignore_result": None,
        "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {},
    }
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    return TaskMessage(headers=headers, properties={"correlation_id": task_id, "reply_to": ""},
                       body=(list(args), {}, embed))

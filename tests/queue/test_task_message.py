"""The producer's messages and queue declarations are Celery's own (workers.queue.message, workers.queue.send).

`vodfleet submit` publishes with kombu alone; the workers are Celery. Both sides write to the embedded broker
here and the files are compared field by field, so a Celery upgrade that changes its message protocol or its
queue declarations fails this test instead of a fleet in production. The fleet tests (embedded, Redis, RabbitMQ)
then run these messages through real workers.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from workers.errors import BrokerUnavailable
from workers.queue.app import declaration, fleet_app, prepare
from workers.queue.message import origin, task_message
from workers.queue.names import DEAD_QUEUE, JOBS_QUEUE, RUN_JOB, RUN_PART
from workers.queue.routing import queue_for
from workers.queue.send import publish
from workers.settings import Settings

ENCODER_QUEUE = queue_for("sha256:" + "ab" * 32)


def embedded(tmp_path: Path) -> Settings:
    settings = Settings(state_dir=tmp_path / "state", broker_url="filesystem://localhost/")
    prepare(settings)
    return settings


def taken(settings: Settings) -> dict[str, Any]:
    """The one message file waiting in the embedded broker, decoded (and removed)."""
    [path] = (settings.broker_folder / "queue").glob("*.msg")
    message: dict[str, Any] = json.loads(path.read_text("utf-8"))
    path.unlink()
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


@pytest.mark.parametrize(("name", "args", "countdown"), [(RUN_JOB, ["job-" + "1" * 24], 0.0),
                                                          (RUN_PART, ["job-" + "2" * 24, 3], 7.5)])
def test_a_message_is_the_one_celery_sends(tmp_path: Path, name: str, args: list[Any], countdown: float) -> None:
    settings = embedded(tmp_path)
    app = fleet_app(settings)
    task_id = f"{args[0]}.cafe0001"
    app.celery.send_task(name, args=args, task_id=task_id, queue=ENCODER_QUEUE, priority=7,
                         soft_time_limit=270.0, time_limit=300.0,  # type: ignore[arg-type]  # seconds as floats
                         countdown=countdown or None)
    theirs = taken(settings)
    publish(app, task_message(name, task_id, args, soft_time_limit=270.0, time_limit=300.0, countdown=countdown,
                              sender=origin()), ENCODER_QUEUE, 7)
    ours = taken(settings)
    app.close()

    assert ours["body"] == theirs["body"] == [args, {}, {"callbacks": None, "errbacks": None, "chain": None,
                                                         "chord": None}]
    their_eta, our_eta = theirs["headers"].pop("eta"), ours["headers"].pop("eta")
    if countdown:  # both "now + countdown" in UTC, a moment apart
        assert abs((datetime.fromisoformat(our_eta) - datetime.fromisoformat(their_eta)).total_seconds()) < 5
        assert datetime.fromisoformat(our_eta).utcoffset() is not None
    else:
        assert our_eta is None and their_eta is None
    assert ours["headers"] == theirs["headers"]  # task, id, timelimit [hard, soft], argsrepr, origin, ...
    for side in (ours, theirs):
        del side["properties"]["delivery_tag"]  # kombu's own, random per message
        del side["body"]
    assert theirs["properties"].pop("reply_to") and ours["properties"].pop("reply_to") == ""  # no result backend
    assert ours == theirs
    assert ours["properties"]["delivery_info"] == {"exchange": "", "routing_key": ENCODER_QUEUE}
    assert ours["properties"]["priority"] == 7 and ours["properties"]["delivery_mode"] == 2


@pytest.mark.parametrize("queue", [JOBS_QUEUE, DEAD_QUEUE, ENCODER_QUEUE])
def test_the_producer_declares_each_queue_as_the_worker_does(tmp_path: Path, queue: str) -> None:
    """RabbitMQ refuses a re-declaration with other arguments (PRECONDITION_FAILED): both sides must agree.
    The encoder queue is one Celery creates on demand when a worker consumes it (``-Q``)."""
    celery = fleet_app(embedded(tmp_path)).celery
    assert celery.amqp.queues[queue].as_dict(recurse=True) == declaration(queue).as_dict(recurse=True)


def test_an_unreachable_broker_is_a_clear_retryable_error(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state", broker_url="redis://user:secret@127.0.0.1:9/0")
    app = fleet_app(settings)
    with pytest.raises(BrokerUnavailable) as caught:
        publish(app, task_message(RUN_JOB, "job-x.1", ["job-x"], soft_time_limit=1, time_limit=2), JOBS_QUEUE, 5)
    assert caught.value.retryable
    assert "job-x.1" in caught.value.message and "redis://127.0.0.1:9/0" in caught.value.message
    assert "secret" not in caught.value.message
    assert "VODFLEET_BROKER_URL" in (caught.value.hint or "")


def test_a_negative_time_is_refused() -> None:
    with pytest.raises(ValueError, match="seconds >= 0"):
        task_message(RUN_JOB, "job-x.1", ["job-x"], soft_time_limit=1, time_limit=2, countdown=-1)

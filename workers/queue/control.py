"""What the live workers say about their encoder (Celery remote control): the command a worker answers and the
broadcast that `vodfleet doctor` sends.

    register_control(own)          a worker (this process) answers ``vodfleet_encoder`` with `own`'s dict
    live_encoders(app, timeout)    {worker hostname: its fingerprint dict} for every worker that answers
"""

from __future__ import annotations

import warnings

from celery import Celery
from celery.exceptions import DuplicateNodenameWarning
from celery.worker.control import inspect_command

from workers.fingerprint import Fingerprint
from workers.queue.names import ENCODER_COMMAND
from workers.queue.routing import fingerprint_of_queue


def register_control(own: Fingerprint | None) -> None:
    """Teach Celery workers (in this process) to answer ``vodfleet_encoder`` with their fingerprint."""

    @inspect_command(name=ENCODER_COMMAND)
    def _encoder(_state: object, **_kwargs: object) -> dict[str, object]:
        return {"fingerprint": None} if own is None else own.to_dict()


def live_encoders(app: Celery, timeout: float) -> dict[str, dict[str, object]]:
    """{worker hostname: its fingerprint dict} for every worker that answers within `timeout` seconds.

    Workers that do not know the command (older versions) are described by the queues they consume."""
    replies: dict[str, dict[str, object]] = {}
    with warnings.catch_warnings():  # workers on a host network may share a node name: report them all the same
        warnings.simplefilter("ignore", DuplicateNodenameWarning)
        broadcast = app.control.broadcast(ENCODER_COMMAND, reply=True, timeout=timeout) or []
        queues = app.control.inspect(timeout=timeout).active_queues() or {}
    for reply in broadcast:
        for host, answer in reply.items():
            if isinstance(answer, dict) and "error" not in answer:
                replies[host] = answer
    for host, consumed in queues.items():
        if host not in replies:
            shorts = [s for q in consumed if (s := fingerprint_of_queue(str(q.get("name", ""))))]
            replies[host] = {"fingerprint": None, "queues_for": shorts}
    return replies

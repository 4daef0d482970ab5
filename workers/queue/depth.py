"""Queue depth: how many messages wait in each queue, and how many are reserved (delivered, not yet acked).

`queue_depth(settings, queues)` reads the configured broker and nothing else: it keeps no state, caches no
connection, and is what the exporter serves and what an autoscaler can call.

    Redis      waiting: LLEN of the queue's list (+ one list per priority step, ``<queue><sep><n>``, sep being
               kombu's default ``\x06\x16``);
               reserved: entries of kombu's ``unacked`` hash whose routing key is the queue
    RabbitMQ   waiting: ``queue.declare(passive=True)``'s message_count; reserved: not visible over AMQP 0-9-1
               (the management API has it), so None
    filesystem waiting: message files ``<ts>_<uuid>.<queue>.msg`` in the broker folder; reserved: None
               (the embedded transport keeps unacked messages in the consuming process only)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from workers.errors import BrokerUnavailable
from workers.queue.app import broker_options, redacted
from workers.settings import Settings

BINDING_PREFIX = "_kombu.binding."
KOMBU_REDIS_SEP = "\x06\x16"  # kombu.transport.redis.Channel.sep: priority lists are ``<queue><sep><step>``
CELERY_INTERNAL = ("celeryev",)  # Celery's event exchange; its remote-control ones end in ``pidbox``
UNACKED_HASH = "unacked"  # kombu's Redis transport default (``unacked_key``)


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    waiting: int
    reserved: int | None  # None: this broker cannot tell


def redis_queue_keys(queue: str, priority_steps: Sequence[int], sep: str) -> list[str]:
    """The lists kombu keeps for one queue with priorities (pure): ``q``, ``q<sep>1`` … (step 0 is ``q``)."""
    return [queue if step == 0 else f"{queue}{sep}{step}" for step in priority_steps] or [queue]


def reserved_by_queue(unacked: Iterable[str | bytes]) -> dict[str, int]:
    """Count kombu ``unacked`` hash values (JSON ``[message, exchange, routing_key]``) per routing key (pure)."""
    counts: dict[str, int] = {}
    for value in unacked:
        try:
            entry = json.loads(value)
            key = str(entry[2])
        except (ValueError, IndexError, TypeError, KeyError):
            continue
        counts[key] = counts.get(key, 0) + 1
    return counts


def filesystem_counts(filenames: Iterable[str], queues: Sequence[str]) -> dict[str, int]:
    """Message files per queue, as kombu's filesystem transport names them (pure)."""
    counts = dict.fromkeys(queues, 0)
    for name in filenames:
        queue = name.partition(".")[2].removesuffix(".msg")
        if name.endswith(".msg") and queue in counts:
            counts[queue] += 1
    return counts


def queues_from_bindings(keys: Iterable[str | bytes]) -> list[str]:
    """Queue names from kombu's Redis binding keys ``_kombu.binding.<queue>`` (pure), without Celery's own
    remote-control and event exchanges (``celery.pidbox``, ``reply.celery.pidbox``, ``celeryev``)."""
    names = {(k.decode() if isinstance(k, bytes) else k).removeprefix(BINDING_PREFIX) for k in keys}
    return sorted(n for n in names if n and not n.startswith(BINDING_PREFIX)
                  and not n.endswith("pidbox") and n not in CELERY_INTERNAL)


def discover_queues(settings: Settings, known: Sequence[str]) -> list[str]:
    """`known` plus the queues the broker knows of (jobs are routed to one queue per encoder fingerprint):
    Redis binding keys; message files of the embedded broker; AMQP cannot list queues (only `known`)."""
    url = settings.broker
    found = set(known)
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis  # noqa: PLC0415

            client = redis.Redis.from_url(url, socket_timeout=5)
            try:
                found.update(queues_from_bindings(client.scan_iter(match=BINDING_PREFIX + "*", count=500)))
            finally:
                client.close()
        elif url.startswith("filesystem://"):
            folder = broker_options(settings)["data_folder_in"]
            if os.path.isdir(folder):  # noqa: PTH112
                found.update(n.partition(".")[2].removesuffix(".msg") for n in os.listdir(folder)  # noqa: PTH208
                             if n.endswith(".msg"))
    except Exception as exc:  # any driver error (redis, OS): report it as the broker being unavailable
        raise BrokerUnavailable(f"cannot list queues on {redacted(url)}: {exc}") from exc
    return sorted(found)


def queue_depth(settings: Settings, queues: Sequence[str]) -> list[QueueDepth]:
    url = settings.broker
    try:
        if url.startswith(("redis://", "rediss://")):
            return _redis(url, settings, queues)
        if url.startswith("filesystem://"):
            folder = broker_options(settings)["data_folder_in"]
            names = os.listdir(folder) if os.path.isdir(folder) else []  # noqa: PTH208, PTH112 - plain names
            counts = filesystem_counts(names, queues)
            return [QueueDepth(q, counts[q], None) for q in queues]
        if url.startswith(("amqp://", "pyamqp://")):
            return _amqp(url, queues)
    except (OSError, ConnectionError) as exc:
        raise BrokerUnavailable(f"cannot read queue depth from {redacted(url)}: {exc}",
                                hint="check VODFLEET_BROKER_URL and that the broker is up") from exc
    raise BrokerUnavailable(f"queue depth is not supported for {redacted(url)}",
                            hint="use redis://, amqp:// or filesystem://")


def _redis(url: str, settings: Settings, queues: Sequence[str]) -> list[QueueDepth]:
    import redis  # noqa: PLC0415 - the driver loads with its broker
    from redis.exceptions import RedisError  # noqa: PLC0415

    options = broker_options(settings)
    steps, sep = options.get("priority_steps", [0]), options.get("sep", KOMBU_REDIS_SEP)
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                for key in redis_queue_keys(queue, steps, sep):
                    pipe.llen(key)
            pipe.hvals(UNACKED_HASH)
            replies = pipe.execute()
    except RedisError as exc:
        raise ConnectionError(str(exc)) from exc
    finally:
        client.close()
    reserved = reserved_by_queue(cast("list[bytes]", replies[-1]))
    lengths = iter(cast("list[int]", replies[:-1]))
    steps = len(redis_queue_keys("q", options.get("priority_steps", [0]), ":"))
    return [QueueDepth(q, sum(next(lengths) for _ in range(steps)), reserved.get(q, 0)) for q in queues]


def _amqp(url: str, queues: Sequence[str]) -> list[QueueDepth]:
    from amqp.exceptions import NotFound  # noqa: PLC0415
    from kombu import Connection  # noqa: PLC0415

    found = []
    with Connection(url, connect_timeout=5) as conn:
        for queue in queues:
            channel: Any = conn.channel()  # a failed passive declare closes its channel: one per queue
            try:
                _name, count, _consumers = channel.queue_declare(queue=queue, passive=True)
            except NotFound:
                count = 0  # not declared yet: nothing was ever sent to it
            finally:
                if channel.is_open:
                    channel.close()
            found.append(QueueDepth(queue, int(count), None))
    return found

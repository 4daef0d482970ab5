"""Demand: the work a pool of workers serves, per queue: messages waiting plus tasks running now.

    waiting   messages not yet delivered (the broker: `workers.queue.depth`)
    running   tasks a worker holds now; two witnesses:
              leased    the job store's live leases, on every broker: a job's lease (its id) or a chunk part's
                        (``<job id>~part<i>``), counted on the queue of the job's encoder (`workers.queue.routing`)
              reserved  the broker's delivered-but-unacked messages, where it can tell (Redis; not RabbitMQ over
                        AMQP 0-9-1, not the embedded broker); it also counts a delayed retry a worker holds
              running = max(reserved, leased) where the broker can tell, else leased
    wanted    workers the demand asks for: max(running, ceil((waiting + running) / jobs_per_worker)); never
              fewer than the tasks running (a worker runs one task), so no autoscaler drains a busy worker.

The Docker autoscaler (`workers.autoscale`) and KEDA (the exporter's ``/scale`` endpoint) use the same `wanted`.
Pure but for `running_by_queue` and `observe` at the bottom, which read the store and the broker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workers.jobs.board import parse_part_lease
from workers.queue.depth import QueueDepth, queue_depth
from workers.queue.routing import queue_for
from workers.settings import Settings
from workers.store.base import JobStore


@dataclass(frozen=True)
class Running:
    """Tasks under a live lease on one queue: whole jobs (or a chunked job's stitch) and chunk parts."""

    jobs: int = 0
    parts: int = 0

    @property
    def tasks(self) -> int:
        return self.jobs + self.parts


@dataclass(frozen=True)
class Demand:
    waiting: int
    running: int

    @property
    def load(self) -> int:
        return self.waiting + self.running


def lease_job(lease: str) -> tuple[str, bool]:
    """(job id, whether it is a part's lease) of a lease id (pure)."""
    part = parse_part_lease(lease)
    return (part[0], True) if part else (lease, False)


def leased_by_queue(leases: Iterable[str], encoders: Mapping[str, str | None]) -> dict[str, Running]:
    """Running tasks per queue from live lease ids and each job's pinned encoder (job id → encoder; pure).

    A lease whose job is not in `encoders` (the record is gone) is not counted: no queue can be named for it."""
    found: dict[str, Running] = {}
    for lease in leases:
        job, is_part = lease_job(lease)
        if job not in encoders:
            continue
        queue = queue_for(encoders[job])
        now = found.get(queue, Running())
        found[queue] = Running(now.jobs + (not is_part), now.parts + is_part)
    return found


def running_tasks(reserved: int | None, leased: int) -> int:
    """Tasks running on one queue: the larger witness where the broker can tell, else the leases (pure)."""
    return leased if reserved is None else max(reserved, leased)


def demand(depths: Sequence[QueueDepth], leased: Mapping[str, Running], queues: Iterable[str]) -> Demand:
    """The demand of a pool that consumes `queues` (pure). A queue missing from `depths` has nothing waiting."""
    by_queue = {d.queue: d for d in depths}
    waiting = running = 0
    for queue in dict.fromkeys(queues):
        depth = by_queue.get(queue)
        waiting += depth.waiting if depth else 0
        running += running_tasks(depth.reserved if depth else None, leased.get(queue, Running()).tasks)
    return Demand(waiting, running)


def wanted(load: Demand, jobs_per_worker: int = 1) -> int:
    """Workers this demand asks for, before any min/max (pure): every running task keeps its worker."""
    if jobs_per_worker < 1:
        raise ValueError(f"jobs_per_worker must be >= 1, not {jobs_per_worker}")
    return max(load.running, math.ceil(max(0, load.load) / jobs_per_worker))


def running_by_queue(store: JobStore) -> dict[str, Running]:
    """Read the store's live leases and their jobs' encoders; raises the store's JobError when unreachable."""
    leases = store.leases()
    encoders: dict[str, str | None] = {}
    for job in {lease_job(lease)[0] for lease in leases}:
        record = store.get(job)
        if record is not None:
            encoders[job] = record.encoder
    return leased_by_queue(leases, encoders)


def observe(settings: Settings, store: JobStore, queues: Sequence[str]) -> Demand:
    """The demand of a pool consuming `queues`, read now from the broker and the store (raises
    `workers.errors.BrokerUnavailable` or `StoreUnavailable` when one cannot be read)."""
    return demand(queue_depth(settings, list(dict.fromkeys(queues))), running_by_queue(store), queues)


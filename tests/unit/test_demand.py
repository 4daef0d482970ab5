"""workers.queue.demand: running tasks per queue from the store's leases and the broker's reserved count, and the
workers a demand asks for (the one rule of the Docker autoscaler and of KEDA's /scale endpoint)."""

from __future__ import annotations

import pytest

from workers.queue.demand import Demand, Running, demand, lease_job, leased_by_queue, running_tasks, wanted
from workers.queue.depth import QueueDepth

FP = "sha256:" + "ab" * 32
MINE = "vodfleet.jobs." + "ab" * 6
A, B, C = "job-" + "a" * 24, "job-" + "b" * 24, "job-" + "c" * 24


def test_lease_job() -> None:
    assert lease_job(A) == (A, False)
    assert lease_job(f"{A}~part3") == (A, True)
    assert lease_job(f"{A}~part-1") == (A, True)  # the audio part


def test_leases_count_on_the_queue_of_their_jobs_encoder() -> None:
    leases = [A, f"{B}~part0", f"{B}~part-1", C, "job-" + "d" * 24]  # d: its record is gone: not counted
    assert leased_by_queue(leases, {A: FP, B: FP, C: None}) == {
        MINE: Running(jobs=1, parts=2), "vodfleet.jobs": Running(jobs=1)}


@pytest.mark.parametrize(("reserved", "leased", "running"), [
    (None, 2, 2),  # RabbitMQ, embedded broker: the leases are the only witness
    (1, 0, 1),  # Redis: a delivered message whose task has not taken its lease yet (or a delayed retry)
    (1, 2, 2),  # a worker holds a lease while its message is being redelivered: never fewer than the leases
    (0, 0, 0)])
def test_running_tasks(reserved: int | None, leased: int, running: int) -> None:
    assert running_tasks(reserved, leased) == running


def test_demand_sums_the_pools_queues_only() -> None:
    depths = [QueueDepth(MINE, 3, None), QueueDepth("vodfleet.jobs", 1, None), QueueDepth("vodfleet.dead", 7, None)]
    leased = {MINE: Running(jobs=1, parts=1), "vodfleet.jobs.other": Running(jobs=5)}
    assert demand(depths, leased, [MINE, "vodfleet.jobs", MINE]) == Demand(waiting=4, running=2)
    assert demand([], leased, [MINE]) == Demand(0, 2)  # a queue never declared: nothing waits


@pytest.mark.parametrize(("waiting", "running", "per_worker", "workers"), [
    (0, 0, 1, 0), (3, 0, 1, 3), (0, 1, 1, 1), (2, 1, 1, 3), (3, 0, 2, 2), (0, 3, 2, 3), (1, 3, 2, 3), (5, 3, 2, 4)])
def test_wanted_keeps_a_worker_per_running_task(waiting: int, running: int, per_worker: int, workers: int) -> None:
    assert wanted(Demand(waiting, running), per_worker) == workers


def test_wanted_rejects_a_zero_jobs_per_worker() -> None:
    with pytest.raises(ValueError, match="jobs_per_worker"):
        wanted(Demand(1, 0), 0)

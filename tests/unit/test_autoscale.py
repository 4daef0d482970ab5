"""workers.autoscale: the replica decision (scale up at once, down after a cooldown, never below the running
tasks) and which workers go (idle ones: no lease, no active task)."""

from __future__ import annotations

import pytest

from workers.autoscale import (
    Decision,
    Policy,
    busy_hosts,
    choose_victims,
    decide,
    idle_containers,
    passed_env,
    target_replicas,
)
from workers.queue.demand import Demand

P = Policy(min_replicas=0, max_replicas=4, jobs_per_worker=2, cooldown=60)


@pytest.mark.parametrize(("waiting", "running", "target"), [
    (0, 0, 0), (1, 0, 1), (2, 0, 1), (3, 0, 2), (8, 0, 4), (100, 0, 4), (-3, 0, 0),
    (0, 1, 1),  # a job encodes and nothing waits: its worker stays (the waiting list alone would say 0)
    (0, 3, 3),  # three running tasks keep three workers although 2 jobs per worker would fit them in 2
    (1, 2, 2), (0, 9, 4)])  # max caps it
def test_target_replicas(waiting: int, running: int, target: int) -> None:
    assert target_replicas(P, Demand(waiting, running)) == target


def test_min_replicas_is_a_floor() -> None:
    assert target_replicas(Policy(min_replicas=1, max_replicas=3), Demand(0, 0)) == 1


# (waiting, running, current, now, busy_since) → (replicas, target, busy_since)
@pytest.mark.parametrize(("waiting", "running", "current", "now", "busy_since", "expected"), [
    (0, 0, 0, 100.0, 0.0, Decision(0, 0, 100.0)),  # idle and empty: stays at 0
    (5, 0, 0, 100.0, 0.0, Decision(3, 3, 100.0)),  # 0 → N at once
    (8, 0, 3, 100.0, 90.0, Decision(4, 4, 100.0)),  # up again, capped at max
    (2, 0, 3, 100.0, 90.0, Decision(3, 1, 90.0)),  # less demand, inside the cooldown: keep 3
    (2, 0, 3, 150.0, 90.0, Decision(1, 1, 150.0)),  # cooldown over: down to what the load asks
    (0, 0, 1, 149.9, 90.0, Decision(1, 0, 90.0)),  # one tick before the cooldown ends
    (0, 0, 1, 150.0, 90.0, Decision(0, 0, 150.0)),  # N → 0
    (2, 0, 1, 150.0, 0.0, Decision(1, 1, 150.0)),  # steady: demand equals replicas, resets the clock
    (0, 1, 1, 1e6, 0.0, Decision(1, 1, 1e6)),  # a long encode: the empty waiting list never scales it to 0
    (0, 2, 3, 1e6, 0.0, Decision(2, 2, 1e6)),  # after the cooldown, down to the two that run, not below
])
def test_decide(waiting: int, running: int, current: int, now: float, busy_since: float,
                expected: Decision) -> None:
    assert decide(P, Demand(waiting, running), current, now, busy_since) == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"min_replicas": 3, "max_replicas": 2}, "min"), ({"min_replicas": -1}, "min"),
    ({"jobs_per_worker": 0}, "jobs_per_worker"), ({"cooldown": -1}, "cooldown")])
def test_policy_is_validated(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Policy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("idle", "count", "victims"), [
    ({"b"}, 1, ["b"]),
    ({"a", "c"}, 2, ["a", "c"]),
    (set(), 1, ["c"]),  # all busy: the newest goes (SIGTERM hands its job back)
    ({"a"}, 2, ["a", "c"]),
    ({"a"}, 0, []),
])
def test_idle_workers_go_first(idle: set[str], count: int, victims: list[str]) -> None:
    assert choose_victims(["a", "b", "c"], idle, count) == victims


def test_busy_hosts_are_the_lease_owners_hosts() -> None:
    leases = {"job-1": "vf-a:7:ab12cd", "job-2~part3": "vf-c:7:ef34ab"}
    assert busy_hosts(leases) == {"vf-a", "vf-c"}


# a: holds a lease; b: answered "no task"; c: answered "running"; d: did not answer
@pytest.mark.parametrize(("busy", "idle"), [
    ({"a"}, {"b", "d"}),  # the store is the witness on every broker; an active task also counts as busy
    (set(), {"a", "b", "d"}),
    (None, {"a", "b"}),  # host network: owners name the host, not a container: only an answer proves idleness
])
def test_idle_containers(busy: set[str] | None, idle: set[str]) -> None:
    active = {"a": False, "b": False, "c": True}
    assert idle_containers(["a", "b", "c", "d"], active, busy) == idle


def test_started_workers_get_the_fleet_settings_but_not_local_paths() -> None:
    env = {"VODFLEET_BROKER_URL": "redis://r", "VODFLEET_STATE_DIR": "/home/x", "PATH": "/bin",
           "VODFLEET_S3_SECRET_KEY": "s"}
    assert passed_env(env) == {"VODFLEET_BROKER_URL": "redis://r", "VODFLEET_S3_SECRET_KEY": "s"}


def test_started_workers_measure_their_own_encoder_and_serve_metrics_when_asked() -> None:
    env = {"VODFLEET_BROKER_URL": "redis://r", "VODFLEET_FINGERPRINT_OVERRIDE": "sha256:" + "0" * 64}
    assert passed_env(env) == {"VODFLEET_BROKER_URL": "redis://r"}  # a host.env override is the submitter's
    assert passed_env(env, 9108) == {"VODFLEET_BROKER_URL": "redis://r", "VODFLEET_METRICS_PORT": "9108"}

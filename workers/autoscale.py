"""Autoscaling worker containers on one Docker host from the demand on their encoder's queue.

    every tick:  demand = waiting + running (this encoder's queue and the unpinned one)   (workers.queue.demand:
                          running from the store's live leases, or the broker's reserved count if larger)
                 target = clamp(wanted(demand, jobs_per_worker), min, max)   (pure: `decide`; wanted >= running,
                          so a worker that holds a job is never scaled away while it runs, on any broker)
                 up:   at once;  down: only after `cooldown` seconds without demand >= current replicas
                 start containers, or stop idle ones first (idle: no live lease owned by the container and, where
                 remote control answers, no active task; busy ones get SIGTERM only if the policy's max forces it:
                 the worker's warm shutdown hands the running job back); exited ones are removed on the next tick.

The pool is the containers labelled ``io.vodfleet.autoscaler=<pool>``; they run the image's ``vodfleet worker``
hardened (read-only root, uid 10001, no capabilities) with this process's ``VODFLEET_*`` settings.
"""

from __future__ import annotations

import os
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from celery import Celery

from workers.queue.demand import Demand, wanted

POOL_LABEL = "io.vodfleet.autoscaler"
FINGERPRINT_LABEL = "io.vodfleet.encoder.fingerprint"
CONTAINER_TMPFS = {"/tmp": "rw,mode=1777", "/var/lib/vodfleet": "rw,uid=10001,gid=10001"}  # noqa: S108 - in the container
# The container has its own state volume; an override of the submitter's encoder (docker/host.env) is not
# the worker's: a worker measures its own.
NOT_PASSED = ("VODFLEET_STATE_DIR", "VODFLEET_SCRATCH_DIR", "VODFLEET_FINGERPRINT_OVERRIDE")
METRICS_PORT_ENV = "VODFLEET_METRICS_PORT"


@dataclass(frozen=True)
class Policy:
    min_replicas: int = 0
    max_replicas: int = 4
    jobs_per_worker: int = 1
    cooldown: float = 60.0  # seconds of lower demand before scaling down

    def __post_init__(self) -> None:
        if not 0 <= self.min_replicas <= self.max_replicas:
            raise ValueError(f"need 0 <= min ({self.min_replicas}) <= max ({self.max_replicas})")
        if self.jobs_per_worker < 1 or self.cooldown < 0:
            raise ValueError("jobs_per_worker must be >= 1 and cooldown >= 0")


@dataclass(frozen=True)
class Decision:
    replicas: int  # what the pool should run now
    target: int  # what the load asks for (before the cooldown)
    busy_since: float  # last time demand was >= the current replicas (carried to the next tick)


def target_replicas(policy: Policy, load: Demand) -> int:
    """Workers the demand asks for (`workers.queue.demand.wanted`), clamped to the policy (pure)."""
    return max(policy.min_replicas, min(policy.max_replicas, wanted(load, policy.jobs_per_worker)))


def decide(policy: Policy, load: Demand, current: int, now: float, busy_since: float) -> Decision:
    """The replica count for this tick (pure). Scale up at once; scale down only after the cooldown."""
    target = target_replicas(policy, load)
    if target >= current:
        return Decision(replicas=target, target=target, busy_since=now)
    if now - busy_since >= policy.cooldown:
        return Decision(replicas=target, target=target, busy_since=now)
    return Decision(replicas=current, target=target, busy_since=busy_since)


def choose_victims(containers: list[str], idle: set[str], count: int) -> list[str]:
    """Which `count` containers to stop: idle ones first, then the newest busy ones (pure)."""
    ordered = [c for c in containers if c in idle] + [c for c in reversed(containers) if c not in idle]
    return ordered[:max(0, count)]


def busy_hosts(leases: dict[str, str]) -> set[str]:
    """Hosts whose worker holds a live lease (owners are ``<host>:<pid>:<random>``, `workers.queue.tasks`; pure).

    A container's host name is its name (`DockerPool.start`), except on the host network, where all share one."""
    return {owner.partition(":")[0] for owner in leases.values()}


def passed_env(environ: dict[str, str], metrics_port: int | None = None) -> dict[str, str]:
    """The settings a started worker gets (pure): this process's VODFLEET_* minus local paths and the
    fingerprint override, plus ``VODFLEET_METRICS_PORT`` when its /metrics are to be scraped."""
    passed = {k: v for k, v in environ.items() if k.startswith("VODFLEET_") and k not in NOT_PASSED}
    if metrics_port:
        passed[METRICS_PORT_ENV] = str(metrics_port)
    return passed


class DockerPool:
    """Worker containers of one pool on the local engine (docker SDK)."""

    def __init__(self, client: Any, image: str, pool: str, *, network: str | None = None,
                 name_prefix: str = "vodfleet-autoscaled", grace: float = 120.0,
                 network_alias: str | None = None) -> None:
        self.client, self.image, self.pool = client, image, pool
        self.network, self.name_prefix, self.grace = network, name_prefix, grace
        self.network_alias = network_alias  # a DNS name every worker of the network shares (Prometheus dns_sd)
        self.draining: set[str] = set()

    def encoder(self) -> str | None:
        """The image's encoder fingerprint (its label), which names the queue its workers consume."""
        labels = self.client.images.get(self.image).labels or {}
        value = labels.get(FINGERPRINT_LABEL)
        return str(value) if value and value != "unknown" else None

    def _containers(self) -> list[Any]:
        found = self.client.containers.list(all=True, filters={"label": f"{POOL_LABEL}={self.pool}"})
        return sorted(found, key=lambda c: str(c.attrs.get("Created", "")))

    def reap(self) -> None:
        """Remove exited containers of the pool (a stopped worker's logs are gone after this)."""
        for container in self._containers():
            if container.status in ("exited", "dead"):
                container.remove()
                self.draining.discard(container.name)

    def running(self) -> list[str]:
        """Names of running containers that are not draining."""
        return [c.name for c in self._containers() if c.status in ("running", "created", "restarting")
                and c.name not in self.draining]

    def start(self, count: int, environment: dict[str, str]) -> list[str]:
        names = []
        for _ in range(count):
            name = f"{self.name_prefix}-{uuid.uuid4().hex[:8]}"
            networking = None
            if self.network and self.network != "host" and self.network_alias:
                networking = {self.network: self.client.api.create_endpoint_config(aliases=[self.network_alias])}
            self.client.containers.run(
                self.image, ["vodfleet", "worker"], name=name, detach=True,
                hostname=None if self.network == "host" else name,  # host networking keeps the host's name
                labels={POOL_LABEL: self.pool}, environment=environment, network=self.network,
                read_only=True, user="10001:10001", cap_drop=["ALL"], security_opt=["no-new-privileges"],
                tmpfs=CONTAINER_TMPFS, stop_signal="SIGTERM", networking_config=networking)
            names.append(name)
        return names

    def drain(self, names: list[str]) -> None:
        """SIGTERM: the worker stops taking jobs, hands a running one back, exits; reaped on a later tick."""
        for name in names:
            self.client.containers.get(name).kill(signal="SIGTERM")
            self.draining.add(name)


def active_tasks(app: Celery, names: list[str], timeout: float) -> dict[str, bool]:
    """Container → whether its worker runs a task, for the workers that answer remote control (hostname =
    container name: ``vodfleet-<pid>@<name>``); a worker that does not answer in `timeout` is absent."""
    from celery.exceptions import DuplicateNodenameWarning  # noqa: PLC0415

    with warnings.catch_warnings():  # containers on the host network share a node name; idle ones still answer
        warnings.simplefilter("ignore", DuplicateNodenameWarning)
        active = app.control.inspect(timeout=timeout).active() or {}
    return {container: bool(tasks) for host, tasks in active.items()
            if (container := str(host).rpartition("@")[2]) in names}


def idle_containers(names: list[str], active: dict[str, bool], busy: set[str] | None) -> set[str]:
    """Containers that run nothing (pure): no live lease owned by their host (`busy`) and no active task reported.

    `busy` None: lease owners cannot name a container (host network: every worker has the host's name), so
    only a worker that answered "no task" is idle."""
    if busy is None:
        return {n for n in names if active.get(n) is False}
    return {n for n in names if n not in busy and not active.get(n, False)}


def environment(metrics_port: int | None = None) -> dict[str, str]:
    return passed_env(dict(os.environ), metrics_port)

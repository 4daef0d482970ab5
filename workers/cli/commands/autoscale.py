"""`vodfleet autoscale`: keep worker containers on this Docker host in step with their encoder's queue.

    vodfleet autoscale --image vodfleet/worker:latest --min 0 --max 4 --jobs-per-worker 1 [--cooldown 60]

Reads the demand (waiting + running: `workers.queue.demand`) on the image's encoder queue and the unpinned one every
--interval seconds, and starts or drains containers (see `workers.autoscale`); a worker running a job is not
drained while it runs. Needs the Docker socket and
`pip install docker`. Started workers get this process's VODFLEET_* settings.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import time
from typing import Any

from pipelines.errors import ConfigError
from workers import autoscale
from workers.exitcodes import EXIT_OK
from workers.queue import demand, routing
from workers.queue.app import fleet_app
from workers.queue.names import JOBS_QUEUE
from workers.settings import Settings
from workers.store import open_store
from workers.store.base import JobStore

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("autoscale", help="scale worker containers on this Docker host with the queue depth",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--image", default="vodfleet/worker:latest", help="worker image (its encoder label names the queue)")
    p.add_argument("--min", type=int, default=0, dest="min_replicas")
    p.add_argument("--max", type=int, default=4, dest="max_replicas")
    p.add_argument("--jobs-per-worker", type=int, default=1)
    p.add_argument("--cooldown", type=float, default=60.0, help="seconds of lower demand before scaling down")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between ticks")
    p.add_argument("--network", default=None, help="Docker network of the started workers (e.g. host)")
    p.add_argument("--name-prefix", default="vodfleet-autoscaled")
    p.add_argument("--network-alias", default="vodfleet-worker",
                   help="DNS alias of the started workers on --network (what Prometheus resolves)")
    p.add_argument("--metrics-port", type=int, default=9108,
                   help="VODFLEET_METRICS_PORT of the started workers (0: none; not with --network host, "
                        "where their ports would collide)")
    p.add_argument("--pool", default="default", help="label value that marks this autoscaler's containers")
    p.add_argument("--ticks", type=int, default=0, help="stop after this many ticks (0: run until stopped)")
    p.set_defaults(func=run)


class Autoscaler:
    """One pool, one policy; `tick()` observes, decides and acts once."""

    def __init__(self, settings: Settings, pool: autoscale.DockerPool, policy: autoscale.Policy,
                 environment: dict[str, str], store: JobStore | None = None) -> None:
        self.settings, self.pool, self.policy, self.environment = settings, pool, policy, environment
        self.store = store or open_store(settings.store)
        encoder = pool.encoder()
        self.queues = [routing.queue_for(encoder), JOBS_QUEUE] if encoder else [JOBS_QUEUE]
        self.app = fleet_app(settings)
        self.busy_since = time.monotonic()

    def current_demand(self) -> demand.Demand:
        return demand.observe(self.settings, self.store, self.queues)

    def load(self) -> int:
        return self.current_demand().load

    def tick(self) -> autoscale.Decision:
        self.pool.reap()
        running = self.pool.running()
        load = self.current_demand()
        decision = autoscale.decide(self.policy, load, len(running), time.monotonic(), self.busy_since)
        self.busy_since = decision.busy_since
        if decision.replicas > len(running):
            started = self.pool.start(decision.replicas - len(running), self.environment)
            log.warning("autoscale: %s → %d workers; started %s", load, decision.replicas, ", ".join(started))
        elif decision.replicas < len(running):
            busy = None if self.pool.network == "host" else autoscale.busy_hosts(self.store.leases())
            answers = autoscale.active_tasks(self.app.celery, running, timeout=1.0)
            idle = autoscale.idle_containers(running, answers, busy)
            victims = autoscale.choose_victims(running, idle, len(running) - decision.replicas)
            self.pool.drain(victims)
            log.warning("autoscale: %s → %d workers; draining %s", load, decision.replicas, ", ".join(victims))
        return decision


def run(args: argparse.Namespace) -> int:
    try:
        # by name: the repository's docker/ folder would shadow the SDK for static analysis
        from_env = importlib.import_module("docker.client").from_env
    except (ImportError, AttributeError) as exc:
        raise ConfigError("the docker SDK is not installed", hint="pip install docker") from exc
    try:
        policy = autoscale.Policy(args.min_replicas, args.max_replicas, args.jobs_per_worker, args.cooldown)
    except ValueError as exc:
        raise ConfigError(str(exc), hint="check --min/--max/--jobs-per-worker/--cooldown") from exc
    pool = autoscale.DockerPool(from_env(), args.image, args.pool, network=args.network,
                                name_prefix=args.name_prefix, network_alias=args.network_alias or None)
    metrics_port = None if args.network == "host" else args.metrics_port or None
    scaler = Autoscaler(Settings(), pool, policy, autoscale.environment(metrics_port))
    log.warning("autoscale: image %s, queues %s, policy %s", args.image, ",".join(scaler.queues), policy)
    tick = 0
    while not args.ticks or tick < args.ticks:
        scaler.tick()
        tick += 1
        time.sleep(args.interval)
    return EXIT_OK

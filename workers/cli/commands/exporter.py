"""`vodfleet exporter [--port N]`: serve /metrics for Prometheus: jobs by state, running tasks and queue depth per
queue, and (with PROMETHEUS_MULTIPROC_DIR) the summed metrics of every worker on this host (`workers.metrics.worker`);
and /scale, a pool's demand as JSON for KEDA (`workers.metrics.exporter`)."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from prometheus_client import CollectorRegistry

from workers.exitcodes import EXIT_OK
from workers.metrics.exporter import FleetCollector, exporter_app, serve
from workers.metrics.worker import multiprocess_registry
from workers.queue.names import DEAD_QUEUE, JOBS_QUEUE
from workers.settings import Settings
from workers.store import open_store


def add_parser(sub: Any) -> None:
    p = sub.add_parser("exporter", help="serve Prometheus metrics of the fleet (/metrics)",
                       description="Serve /metrics: jobs by state and running tasks (job store), queue depth and "
                                   "reserved messages per queue (broker), and worker metrics from "
                                   "PROMETHEUS_MULTIPROC_DIR; and /scale?queue=Q…: waiting, running and desired "
                                   "workers as JSON (KEDA metrics-api).")
    p.add_argument("--port", type=int, default=9808, help="TCP port (default 9808; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in a container)")
    p.add_argument("--queues", default=f"{JOBS_QUEUE},{DEAD_QUEUE}", help="comma-separated queues to report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    registry = multiprocess_registry() or CollectorRegistry()
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    store = open_store(settings.store)
    registry.register(FleetCollector(settings, store, queues, registry=registry))
    server = serve(exporter_app(registry, settings, store), args.host, args.port)
    print(f"serving http://{args.host}:{server.server_port}/metrics and /scale", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    finally:
        server.shutdown()
    return EXIT_OK

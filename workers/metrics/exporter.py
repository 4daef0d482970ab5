"""The exporter's fleet-wide metrics, read at scrape time: jobs by state and running tasks (store), queue depth
(broker); and ``/scale``, the demand on a pool's queues as JSON for KEDA's ``metrics-api`` scaler.

    vodfleet_jobs{state}                      gauge: jobs in each state (the newest `job_limit` jobs)
    vodfleet_running_tasks{queue,kind}        gauge: tasks running under a live lease in the job store, on the
                                              queue of their job's encoder; kind ``job`` (a whole job, or a
                                              chunked job's stitch) or ``part`` (a chunk or the audio). Every
                                              broker (RabbitMQ and the embedded one cannot report reserved work)
    vodfleet_queue_messages{queue}            gauge: messages waiting in each queue (the given queues and
                                              every queue the broker shows: one per encoder fingerprint)
    vodfleet_queue_reserved{queue}            gauge: messages delivered to a worker and not yet acked
                                              (Redis only: absent where the broker cannot tell)
    vodfleet_exporter_errors_total{source}    counter: scrapes where the store or the broker failed

A failing store or broker drops its gauges from that scrape (no stale numbers) and counts an error.

    GET /scale?queue=Q[&queue=Q2…][&jobs_per_worker=N]
        200 {"queues": [...], "waiting": W, "running": R, "load": W+R, "desired": D, "jobs_per_worker": N}
            D = `workers.queue.demand.wanted`: never fewer than the running tasks (KEDA: valueLocation ``desired``,
            targetValue 1 → replicas = D; activation while any job waits or runs)
        400 {"error": …} no queue named, or a bad jobs_per_worker;  503 {"error": …} broker or store unreachable
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Counter, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from workers.errors import WorkerError
from workers.jobs.state import JobState
from workers.queue.demand import Running, observe, running_by_queue, wanted
from workers.queue.depth import discover_queues, queue_depth
from workers.settings import Settings
from workers.store.base import JobStore

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

log = logging.getLogger(__name__)


class FleetCollector(Collector):
    def __init__(self, settings: Settings, store: JobStore, queues: Sequence[str], *, job_limit: int = 100_000,
                 registry: CollectorRegistry | None = None) -> None:
        self.settings, self.store, self.queues, self.job_limit = settings, store, tuple(queues), job_limit
        self.errors = Counter("vodfleet_exporter_errors", "Scrapes where a source failed", ["source"],
                              registry=registry)

    def collect(self) -> Iterator[Metric]:
        leased: dict[str, Running] | None = None
        try:
            counts = Tally(r.state for r in self.store.jobs(limit=self.job_limit))
            leased = running_by_queue(self.store)
        except WorkerError as exc:
            log.warning("exporter: job store: %s", exc)
            self.errors.labels(source="store").inc()
        else:
            jobs = GaugeMetricFamily("vodfleet_jobs", "Jobs in each state", labels=["state"])
            for state in JobState:
                jobs.add_metric([state.value], counts.get(state, 0))
            yield jobs
        queues = list(self.queues)
        try:
            queues = discover_queues(self.settings, self.queues)
            depths = queue_depth(self.settings, queues)
        except WorkerError as exc:
            log.warning("exporter: broker: %s", exc)
            self.errors.labels(source="broker").inc()
            depths = None
        if leased is not None:  # zeros too: every queue's series exists before its first job runs
            running = GaugeMetricFamily("vodfleet_running_tasks", "Tasks running under a live lease (job store), "
                                        "by queue; kind: job or part (chunk)", labels=["queue", "kind"])
            for queue in sorted({*queues, *leased}):
                now = leased.get(queue, Running())
                running.add_metric([queue, "job"], now.jobs)
                running.add_metric([queue, "part"], now.parts)
            yield running
        if depths is None:
            return
        waiting = GaugeMetricFamily("vodfleet_queue_messages", "Messages waiting in each queue", labels=["queue"])
        reserved = GaugeMetricFamily("vodfleet_queue_reserved", "Messages delivered and not yet acked",
                                     labels=["queue"])
        for depth in depths:
            waiting.add_metric([depth.queue], depth.waiting)
            if depth.reserved is not None:
                reserved.add_metric([depth.queue], depth.reserved)
        yield waiting
        yield reserved


def scale_reply(settings: Settings, store: JobStore, query: str) -> tuple[str, dict[str, Any]]:
    """(HTTP status, JSON body) of ``/scale?<query>`` (see the module docstring)."""
    params = parse_qs(query)
    queues = list(dict.fromkeys(q for value in params.get("queue", []) for q in value.split(",") if q))
    if not queues:
        return "400 Bad Request", {"error": "name the pool's queues: /scale?queue=vodfleet.jobs.<fingerprint>"
                                            "&queue=vodfleet.jobs"}
    text = params.get("jobs_per_worker", ["1"])[-1]
    per_worker = int(text) if text.isdecimal() else 0
    if per_worker < 1:
        return "400 Bad Request", {"error": f"jobs_per_worker={text!r}: expected a whole number >= 1"}
    try:
        load = observe(settings, store, queues)
    except WorkerError as exc:
        log.warning("exporter: /scale: %s", exc)
        return "503 Service Unavailable", {"error": str(exc)}
    return "200 OK", {"queues": queues, **asdict(load), "load": load.load, "desired": wanted(load, per_worker),
                      "jobs_per_worker": per_worker}


def exporter_app(registry: CollectorRegistry, settings: Settings, store: JobStore) -> WsgiApp:
    """The exporter's WSGI app: ``/scale`` (JSON) and, on every other path, prometheus_client's exposition."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/scale":
            reply: Iterable[bytes] = metrics(environ, start_response)
            return reply
        status, body = scale_reply(settings, store, str(environ.get("QUERY_STRING", "")))
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Scrapes every 15 s would fill the log."""


def serve(app: WsgiApp, host: str, port: int) -> WSGIServer:
    """Serve `app` on host:port (0: any free port) from a daemon thread; IPv6 addresses work too."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    server_class: type[_Server] = type("_Bound", (_Server,), {"address_family": family})
    server: WSGIServer = make_server(str(address[0]), port, app, server_class, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="exporter-http", daemon=True).start()
    return server

"""Request metrics for Prometheus: requests by method, route template and status, and their latency.

    vodfleet_api_requests_total{method,route,status}
    vodfleet_api_request_seconds{method,route}     histogram

The route label is the path template (``/jobs/{job_id}``), never the raw path: its cardinality stays bounded.
A registry of the application's own, served at GET /metrics (unauthenticated, like a worker's /metrics: keep it
on the cluster network).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("vodfleet_api_requests", "HTTP API requests by method, route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.seconds = Histogram("vodfleet_api_request_seconds", "HTTP API request latency (seconds, until the "
                                 "response headers)", ["method", "route"], buckets=BUCKETS, registry=self.registry)

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.requests.labels(request.method, template, str(status)).inc()
            self.seconds.labels(request.method, template).observe(time.perf_counter() - started)

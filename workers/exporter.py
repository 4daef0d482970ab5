"""The exporter's fleet-wide metrics, read at scrape time: jobs by state (store), queue depth (broker).

    vodfleet_jobs{state}                      gauge: jobs in each state (the newest `job_limit` jobs)
    vodfleet_queue_messages{queue}            gauge: messages waiting in each queue (the given queues and
                                              every queue the broker shows: one per encoder fingerprint)
    vodfleet_queue_reserved{queue}            gauge: messages delivered to a worker and not yet acked
                                              (Redis only: absent where the broker cannot tell)
    vodfleet_exporter_errors_total{source}    counter: scrapes where the store or the broker failed

A failing store or broker drops its gauges from that scrape (no stale numbers) and counts an error.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterator, Sequence

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from workers.errors import WorkerError
from workers.jobstate import JobState
from workers.queue_depth import discover_queues, queue_depth
from workers.settings import Settings
from workers.store import JobStore

log = logging.getLogger(__name__)


class FleetCollector(Collector):
    def __init__(self, settings: Settings, store: JobStore, queues: Sequence[str], *, job_limit: int = 100_000,
                 registry: CollectorRegistry | None = None) -> None:
        self.settings, self.store, self.queues, self.job_limit = settings, store, tuple(queues), job_limit
        self.errors = Counter("vodfleet_exporter_errors", "Scrapes where a source failed", ["source"],
                              registry=registry)

    def collect(self) -> Iterator[Metric]:
        try:
            counts = Tally(r.state for r in self.store.jobs(limit=self.job_limit))
        except WorkerError as exc:
            log.warning("exporter: job store: %s", exc)
            self.errors.labels(source="store").inc()
        else:
            jobs = GaugeMetricFamily("vodfleet_jobs", "Jobs in each state", labels=["state"])
            for state in JobState:
                jobs.add_metric([state.value], counts.get(state, 0))
            yield jobs
        try:
            depths = queue_depth(self.settings, discover_queues(self.settings, self.queues))
        except WorkerError as exc:
            log.warning("exporter: broker: %s", exc)
            self.errors.labels(source="broker").inc()
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

"""The fleet's Prometheus metrics: what workers record, and how a process exposes them.

Worker-side (recorded where the work happens; names are the contract with docker/ dashboards):

    vodfleet_phase_seconds{phase}             histogram: time a job spent in each state (queued = wait)
    vodfleet_encode_speed_x_realtime          histogram: source seconds per wall second of the encode
    vodfleet_source_bytes_total               counter: bytes of masters and sidecars fetched to scratch
    vodfleet_published_bytes_total            counter: bytes of outputs written to the storage
    vodfleet_job_failures_total{code}         counter: jobs that ended failed, by error code
    vodfleet_job_retries_total{code}          counter: attempts that failed and were requeued, by code
    vodfleet_chunk_parts_total{outcome}       counter: chunk tasks of split-and-stitch jobs by outcome (done,
                                              retried, failed, stopped)

Fleet-wide (read at scrape time by `vodfleet exporter`, `workers.exporter`): jobs by state from the store,
queue depth and reserved messages per queue from the broker.

Several worker processes: a worker is one process (solo/threads pool: no forked pool children), so the
counters of one process are complete for it. Two ways to scrape them, both supported:

- ``PROMETHEUS_MULTIPROC_DIR`` set (workers on one host or sharing a volume, e.g. the compose stack and
  the tests): prometheus-client's multiprocess mode writes each process's values to files there, and the
  exporter sums them per label set (counters and histograms add up across processes; a dead worker's
  counts stay in the totals, as counters should). One scrape target for the whole host.
- ``VODFLEET_METRICS_PORT`` set (one worker per container/pod): each worker serves its own /metrics on
  that port and Prometheus scrapes every pod (Kubernetes service discovery); the exporter then serves only
  the fleet-wide gauges. Multiprocess mode cannot work across containers without a shared volume, which is
  why this is the mode for Kubernetes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from workers.observation import Failed, Observation, PhaseTime, Retried

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

PHASE_SECONDS = Histogram("vodfleet_phase_seconds", "Seconds a job spent in each state (queued: waiting)",
                          ["phase"], buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
                                              21600))
ENCODE_SPEED = Histogram("vodfleet_encode_speed_x_realtime", "Encode speed (source seconds per wall second)",
                         buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64))
SOURCE_BYTES = Counter("vodfleet_source_bytes", "Bytes of masters and sidecars fetched by workers")
PUBLISHED_BYTES = Counter("vodfleet_published_bytes", "Bytes of outputs published to the storage")
FAILURES = Counter("vodfleet_job_failures", "Jobs that ended failed, by error code", ["code"])
RETRIES = Counter("vodfleet_job_retries", "Attempts that failed and were requeued, by error code", ["code"])
CHUNK_PARTS = Counter("vodfleet_chunk_parts", "Chunk tasks of split-and-stitch jobs, by outcome", ["outcome"])

# Every error code (docs/errors.md's table; tests/unit/test_metrics_labels.py keeps the two in step) and every
# chunk outcome: the label sets a worker can record, created at 0 when it starts (`initialise_labels`).
ERROR_CODES = ("source_not_local", "source_missing", "source_empty", "source_format_refused", "source_not_media",
               "source_truncated", "source_undecodable", "source_no_video", "source_bad_duration",
               "source_too_long", "source_too_large", "source_too_many_streams", "source_probe_timeout",
               "output_too_large", "subtitle_unreadable", "subtitle_too_large", "subtitle_too_many_cues",
               "subtitle_too_complex", "subtitle_line_too_long", "subtitle_charset_unknown",
               "subtitle_unparseable", "caption_scc_invalid", "subtitle_unsafe_xml", "subtitle_timestamp_invalid",
               "subtitle_out_of_range", "language_invalid", "audio_silent", "source_rejected", "subtitle_rejected",
               "input_rejected", "config_invalid", "tool_missing", "ffmpeg_failed", "ffmpeg_timeout",
               "scratch_unavailable", "cancelled", "qc_failed", "qc_probe_unreadable", "qc_manifest_unreadable",
               "vmaf_log_invalid",
               "cmaf_missing", "cmaf_malformed", "cmaf_unsupported", "unclassified", "pipeline_error",
               "worker_error", "key_invalid", "storage_error", "storage_unavailable", "object_not_found",
               "storage_access_denied", "storage_precondition_failed", "storage_checksum_mismatch",
               "storage_rejected", "output_invalid", "option_invalid", "webhook_target_refused",
               "webhook_target_unresolvable", "job_error", "job_not_found", "illegal_transition",
               "store_unavailable", "attempts_exhausted", "chunk_plan_mismatch", "time_limit", "internal_error",
               "player_libraries_missing", "preview_not_an_output")
CHUNK_OUTCOMES = ("done", "retried", "failed", "stopped")


def initialise_labels() -> None:
    """Create every known label set at 0. A labelled counter is born at its first ``inc()``, so without this
    its first sample is already 1 and ``increase()``/``rate()`` never see that failure (Prometheus' advice:
    initialise the label values you know in advance)."""
    for code in ERROR_CODES:
        FAILURES.labels(code=code)
        RETRIES.labels(code=code)
    for outcome in CHUNK_OUTCOMES:
        CHUNK_PARTS.labels(outcome=outcome)


def record(found: Iterable[Observation]) -> None:
    for item in found:
        if isinstance(item, PhaseTime):
            PHASE_SECONDS.labels(phase=item.phase).observe(item.seconds)
        elif isinstance(item, Failed):
            FAILURES.labels(code=item.code).inc()
        elif isinstance(item, Retried):
            RETRIES.labels(code=item.code).inc()


def record_part(outcome: str) -> None:
    """One chunk task ended: done, retried, failed (it failed the job) or stopped (cancel, shutdown, lost)."""
    CHUNK_PARTS.labels(outcome=outcome).inc()


def record_fetched(size: int) -> None:
    SOURCE_BYTES.inc(max(0, size))


def record_transcode(report: dict[str, object]) -> None:
    """The encode speed from a pipeline report (``speed.x_realtime``), if it has one."""
    speed = report.get("speed")
    value = speed.get("x_realtime") if isinstance(speed, dict) else None
    if isinstance(value, int | float) and value > 0:
        ENCODE_SPEED.observe(float(value))


def record_published(folder: Path) -> None:
    """Count the bytes of a local output folder that was just published."""
    PUBLISHED_BYTES.inc(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()))


def multiprocess_registry() -> CollectorRegistry | None:
    """A registry summing every process's metrics under PROMETHEUS_MULTIPROC_DIR, or None when unset."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return None
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return registry


def serve_worker_metrics(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from other hosts
    """Serve this process's metrics (or, in multiprocess mode, the folder's) on `port` (a daemon thread)."""
    from prometheus_client import REGISTRY  # noqa: PLC0415

    start_http_server(port, addr=addr, registry=multiprocess_registry() or REGISTRY)

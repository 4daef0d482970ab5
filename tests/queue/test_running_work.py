"""Running work is visible on every broker: a real worker holds a job (its ffmpeg paused with SIGSTOP, so the
encode cannot end while we look) and the exporter's ``vodfleet_running_tasks``, its ``/scale`` endpoint (what
KEDA reads) and the autoscaler's decision all count it; RabbitMQ and the embedded broker report no reserved
messages, so without the store's leases each would see an idle fleet and scale the busy worker away."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psutil
import pytest
import yaml
from fleetkit import Fleet, free_port, fresh_db, make_fleet, vodfleet_argv, wait, wait_port
from mediagen import make_source
from prometheus_client.parser import text_string_to_metric_families

from workers.autoscale import Policy, decide
from workers.jobs.board import PartState
from workers.jobs.state import JobState
from workers.queue import routing
from workers.queue.demand import Demand, observe
from workers.queue.names import JOBS_QUEUE
from workers.store import open_store

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "running.mp4", width=640, height=360, duration=8)


@pytest.fixture(params=["filesystem", "redis", "amqp"])
def fleet(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> Iterator[Fleet]:
    if request.param == "filesystem":  # the embedded default: filesystem broker, SQLite store
        yield from make_fleet(tmp_path)
        return
    store = fresh_db(redis_url, abs(hash(tmp_path.name)) % 15 + 1)
    broker = store if request.param == "redis" else request.getfixturevalue("amqp_url")
    yield from make_fleet(tmp_path, broker_url=broker, store_url=store)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def keda_trigger() -> dict[str, str]:
    """The metrics-api trigger of docker/k8s/scaledobject.yaml (what KEDA will ask, and which field it reads)."""
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker/k8s/scaledobject.yaml").read_text())
    [trigger] = manifest["spec"]["triggers"]
    metadata: dict[str, str] = trigger["metadata"]
    return metadata


def scale(port: int, *queues: str) -> dict[str, Any]:
    """GET /scale as KEDA does (the manifest's path; its queues replaced by this host's encoder queue)."""
    path = urlsplit(keda_trigger()["url"]).path
    status, body = get(f"http://127.0.0.1:{port}{path}?" + urlencode([("queue", q) for q in queues]))
    assert status == 200, body
    reply: dict[str, Any] = json.loads(body)
    return reply


def ffmpegs_under(folder: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "ffmpeg" and str(folder) in " ".join(p.info["cmdline"] or [])]



@pytest.mark.timeout(300)
def test_a_running_job_is_counted_by_the_exporter_scale_endpoint_and_autoscaler(fleet: Fleet, source: Path) -> None:
    settings = fleet.settings()
    store = open_store(settings.store)
    done = fleet.cli("submit", str(source), *DRAFT)
    assert done.returncode == 0, done.stderr
    job = done.stdout.splitlines()[0]
    record = store.get(job)
    assert record is not None
    queue = routing.queue_for(record.encoder)
    pool = [queue, JOBS_QUEUE]
    port = free_port()
    exporter = subprocess.Popen(vodfleet_argv("exporter", "--port", str(port), "--queues", ",".join(pool)),
                                env=fleet.env, stderr=subprocess.DEVNULL)
    paused: list[psutil.Process] = []
    try:
        wait_port(port, 20, exporter)
        queued = scale(port, *pool)
        assert (queued["waiting"], queued["running"], queued["desired"]) == (1, 0, 1)

        fleet.worker()

        def encoding() -> list[psutil.Process]:
            now = store.get(job)
            return ffmpegs_under(fleet.state) if now is not None and now.state is JobState.ENCODING else []

        paused = wait(encoding, 120, "the encode to start", fleet)
        for proc in paused:
            proc.send_signal(signal.SIGSTOP)  # the job stays running (its lease renewed by the worker) while we look

        metrics = scrape(port)
        assert metrics[("vodfleet_running_tasks", (("kind", "job"), ("queue", queue)))] == 1
        assert metrics[("vodfleet_running_tasks", (("kind", "part"), ("queue", queue)))] == 0
        assert metrics[("vodfleet_running_tasks", (("kind", "job"), ("queue", JOBS_QUEUE)))] == 0
        assert metrics[("vodfleet_queue_messages", (("queue", queue),))] == 0  # the waiting list is empty
        reserved = metrics.get(("vodfleet_queue_reserved", (("queue", queue),)))
        assert reserved == (1 if settings.broker.startswith("redis") else None)  # the broker's own witness

        running = scale(port, *pool)
        assert running == {"queues": pool, "waiting": 0, "running": 1, "load": 1, "desired": 1,
                           "jobs_per_worker": 1}
        trigger = keda_trigger()  # KEDA: replicas = value / targetValue, active above activationTargetValue
        value = running[trigger["valueLocation"]]
        assert value / float(trigger["targetValue"]) == 1 and value > float(trigger["activationTargetValue"])

        # the autoscaler, past its cooldown, with the one worker it runs: keeps it (not 0 → requeue forever)
        demand = observe(settings, store, pool)
        assert demand == Demand(waiting=0, running=1)
        policy = Policy(min_replicas=0, max_replicas=4, jobs_per_worker=1, cooldown=0)
        assert decide(policy, demand, current=1, now=1e9, busy_since=0).replicas == 1
    finally:
        for proc in paused:
            proc.send_signal(signal.SIGCONT)
        try:
            wait(lambda: (r := store.get(job)) is not None and r.state is JobState.PUBLISHED, 300, "publish", fleet)
            idle = scale(port, *pool)
            assert (idle["waiting"], idle["running"], idle["desired"]) == (0, 0, 0)
            assert scrape(port)[("vodfleet_running_tasks", (("kind", "job"), ("queue", queue)))] == 0
        finally:
            exporter.terminate()
            exporter.wait(10)
            store.close()


@pytest.fixture(scope="module")
def chunked_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "chunked.mp4", width=320, height=180, duration=20)


def pause_running_parts(fleet: Fleet, job: str, want: int) -> tuple[list[psutil.Process], int]:
    """SIGSTOP the ffmpegs once `want` parts of the chunked job run and stay so (a part may be past its ffmpeg,
    uploading: then it ends and another starts, and we try again); return them and the parts still queued."""
    store = open_store(fleet.env["VODFLEET_STORE_URL"])
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            record = store.get(job)
            board = record.chunks if record is not None else None
            running = {p.index for p in board.parts if p.state is PartState.RUNNING} if board else set()
            procs = ffmpegs_under(fleet.state)
            if len(running) == want and len(procs) >= want:
                for proc in procs:
                    proc.send_signal(signal.SIGSTOP)
                time.sleep(1.0)
                again = store.get(job)
                assert again is not None and again.chunks is not None
                still = {p.index for p in again.chunks.parts if p.state is PartState.RUNNING}
                if still == running and set(ffmpegs_under(fleet.state)) == set(procs):
                    return procs, sum(1 for p in again.chunks.parts if p.state is PartState.QUEUED)
                for proc in procs:
                    proc.send_signal(signal.SIGCONT)
            time.sleep(0.05)
    finally:
        store.close()
    pytest.fail(f"never saw {want} parts running\n{fleet.logs()[-4000:]}")


@pytest.fixture
def amqp_fleet(tmp_path: Path, redis_url: str, amqp_url: str) -> Iterator[Fleet]:
    store = fresh_db(redis_url, abs(hash(tmp_path.name)) % 15 + 1)
    yield from make_fleet(tmp_path, broker_url=amqp_url, store_url=store)


@pytest.mark.timeout(300)
def test_running_chunk_parts_are_counted_on_rabbitmq(amqp_fleet: Fleet, chunked_source: Path) -> None:
    fleet = amqp_fleet
    store_url = fleet.env["VODFLEET_STORE_URL"]
    settings = fleet.settings()
    done = fleet.cli("submit", str(chunked_source), *DRAFT, "--chunks", "2")
    assert done.returncode == 0, done.stderr
    job = done.stdout.splitlines()[0]
    store = open_store(store_url)
    record = store.get(job)
    assert record is not None
    queue = routing.queue_for(record.encoder)
    port = free_port()
    exporter = subprocess.Popen(vodfleet_argv("exporter", "--port", str(port), "--queues", queue),
                                env=fleet.env, stderr=subprocess.DEVNULL)
    paused: list[psutil.Process] = []
    try:
        wait_port(port, 20, exporter)
        fleet.worker(name="a")
        fleet.worker(name="b")
        paused, queued = pause_running_parts(fleet, job, 2)  # two chunk tasks, one per worker
        metrics = scrape(port)
        assert metrics[("vodfleet_running_tasks", (("kind", "part"), ("queue", queue)))] == 2
        assert metrics[("vodfleet_running_tasks", (("kind", "job"), ("queue", queue)))] == 0
        assert ("vodfleet_queue_reserved", (("queue", queue),)) not in metrics  # AMQP 0-9-1 cannot tell
        assert metrics[("vodfleet_queue_messages", (("queue", queue),))] == queued
        demand = observe(settings, store, [queue, JOBS_QUEUE])
        assert demand == Demand(waiting=queued, running=2)
        assert scale(port, queue, JOBS_QUEUE)["desired"] == 2 + queued
        policy = Policy(min_replicas=0, max_replicas=4, jobs_per_worker=1, cooldown=0)
        assert decide(policy, demand, current=2, now=1e9, busy_since=0).replicas == 2 + queued  # both busy stay
    finally:
        for proc in paused:
            proc.send_signal(signal.SIGCONT)
        try:
            wait(lambda: (r := store.get(job)) is not None and r.state is JobState.PUBLISHED, 300, "publish", fleet)
        finally:
            exporter.terminate()
            exporter.wait(10)
            store.close()


def test_scale_endpoint_rejects_a_request_without_queues(tmp_path: Path) -> None:
    for fleet in make_fleet(tmp_path):
        port = free_port()
        exporter = subprocess.Popen(vodfleet_argv("exporter", "--port", str(port)), env=fleet.env,
                                    stderr=subprocess.DEVNULL)
        try:
            wait_port(port, 20, exporter)
            status, body = get(f"http://127.0.0.1:{port}/scale")
            assert status == 400 and "queue" in json.loads(body)["error"]
            status, body = get(f"http://127.0.0.1:{port}/scale?queue=vodfleet.jobs&jobs_per_worker=0")
            assert status == 400 and "jobs_per_worker" in json.loads(body)["error"]
            status, body = get(f"http://127.0.0.1:{port}/scale?queue=vodfleet.jobs&jobs_per_worker=2")
            assert status == 200 and json.loads(body)["jobs_per_worker"] == 2
        finally:
            exporter.terminate()
            exporter.wait(10)

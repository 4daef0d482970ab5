"""The fleet under failure, against real services and real `vodfleet worker` processes.

A broker restarted mid-encode, S3 down while the worker starts publishing, wrong S3 credentials, a job that
kills its worker every time, a cancel mid-encode, a worker SIGKILLed on RabbitMQ. Each test says what it
proves in its docstring.
"""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fleet.seaweed_server import SeaweedServer
from fleetkit import Fleet, RedisServer, make_fleet, s3_settings
from kombu import Queue
from mediagen import make_source
from test_fleet import DRAFT, ffmpegs_under, history, status, wait_for
from test_s3_jobs import dash_references, fresh_db, hls_references, missing

from workers.delivery.faults import EXIT_STATUS, KILL_WORKER_AT
from workers.jobs.state import JobRecord
from workers.queue.app import create_app
from workers.queue.names import DEAD_QUEUE, JOBS_QUEUE, RUN_JOB
from workers.settings import Settings
from workers.store import open_store
from workers.store.base import JobStore

pytestmark = [pytest.mark.queue, pytest.mark.media]


@pytest.fixture(scope="module")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("fsrc") / "small.mp4", width=640, height=360, duration=4)


@pytest.fixture(scope="module")
def long_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (several seconds of encoding on 2 cores) to do something to the fleet mid-encode."""
    return make_source(tmp_path_factory.mktemp("fsrc") / "long.mp4", width=1280, height=720, duration=16)


def job_record(store: JobStore, job: str) -> JobRecord | None:
    """The stored record, or None while the store cannot be reached (a test is restarting it)."""
    try:
        return store.get(job)
    except Exception:  # noqa: BLE001 - any store error while the server is down means "not now"
        return None


def record_failed(store: JobStore, job: str) -> bool:
    record = job_record(store, job)
    return record is not None and record.state == "failed"


def wait_state(store: JobStore, job: str, check: Callable[[JobRecord], bool], timeout: float, what: str,
               fleet: Fleet, *, poll: float = 0.05) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = job_record(store, job)
        if record is not None and check(record):
            return record
        time.sleep(poll)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n--- worker logs ---\n{fleet.logs()[-5000:]}")


def encoding_at(percent: float) -> Callable[[JobRecord], bool]:
    return lambda r: r.state == "encoding" and (r.percent or 0) >= percent


def published_versions(fleet: Fleet, title: str) -> list[str]:
    """Version folders under a title in the fleet's local storage."""
    folder = fleet.state / "storage" / "outputs" / title
    return sorted(p.name for p in folder.glob("v*")) if folder.is_dir() else []


def broker_messages(broker_url: str, queue: str) -> list[Any]:
    """Take every message off `queue` on the real broker; return them (kombu messages, acked)."""
    app = create_app(Settings(broker_url=broker_url))
    taken = []
    with app.connection_for_read() as connection:
        bound = Queue(queue)(connection.default_channel)
        while (message := bound.get(no_ack=False)) is not None:
            message.ack()
            taken.append(message)
    return taken


def submit(fleet: Fleet, source: Path, *extra: str) -> str:
    done = fleet.cli("submit", str(source), *DRAFT, *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# --- 3. broker restart ------------------------------------------------------------------------------------


def test_redis_restart_mid_encode(tmp_path: Path, private_redis: RedisServer, long_source: Path,
                                  small_source: Path) -> None:
    """Redis (broker AND job store, AOF on) is SIGKILLed mid-encode and started again on its port 1.5 s
    later. The worker keeps the job, reconnects, and the job is published exactly once, on its first attempt;
    the same worker then takes a new job from the restarted broker."""
    url = private_redis.url + "/0"
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url):
        store = open_store(url)
        worker = fleet.worker()
        job = submit(fleet, long_source)
        wait_state(store, job, encoding_at(15), 120, "15 % of the encode", fleet)
        private_redis.kill()
        down = time.monotonic()
        time.sleep(1.5)  # > the 1 s between progress writes, < the 3 s lease: the lease survives, writes fail
        private_redis.start()
        print(f"\nredis down {time.monotonic() - down:.1f}s")
        record = wait_state(store, job, lambda r: r.state in ("published", "failed", "cancelled"), 150,
                            "a terminal state after the restart", fleet, poll=0.3)
        assert record.state == "published", fleet.logs()[-4000:]
        states = [(t.state.value, t.attempt) for t in record.history]
        assert states.count(("published", record.attempt)) == 1 and [s for s, _ in states].count("published") == 1
        assert published_versions(fleet, "long") == ["v0001"]
        assert worker.poll() is None, "the worker died instead of reconnecting"
        second = submit(fleet, small_source)  # a new message through the restarted broker, same worker
        wait_state(store, second, lambda r: r.state == "published", 90, "a second job after the restart", fleet,
                   poll=0.3)
        blips = fleet.logs().count("cannot record")
        print(f"redis restart: first job attempts {record.attempt}, {blips} state writes failed during the "
              f"outage, history {states}")
        assert record.attempt == 1, states
        store.close()


# --- 4. S3 down at publish --------------------------------------------------------------------------------


def test_s3_down_when_publishing_starts(tmp_path: Path, redis_url: str, private_s3_server: SeaweedServer,
                                        small_source: Path) -> None:
    """SeaweedFS is SIGKILLed while the job is in QC, so the worker starts publishing against a dead server;
    it is back ~3 s later. The upload is retried (botocore's backoff, else the job's retry) and the job is
    published once, complete: every object its manifests reference exists."""
    prefix = "down-" + secrets.token_hex(4)
    url = fresh_db(redis_url, 10)
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url, **s3_settings(private_s3_server, prefix)):
        store = open_store(url)
        fleet.worker()
        job = submit(fleet, small_source)
        wait_state(store, job, lambda r: r.state in ("qc", "publishing", "published"), 90, "QC", fleet, poll=0.02)
        private_s3_server.stop(kill=True)
        down = time.time()
        publishing = wait_state(store, job, lambda r: r.state != "qc", 3, "publishing to start", fleet, poll=0.02)
        time.sleep(max(0.0, 3.0 - (time.time() - down)))
        private_s3_server.start()
        up = time.time()
        record = wait_state(store, job, lambda r: r.state in ("published", "failed"), 120, "the publish", fleet,
                            poll=0.3)
        assert record.state == "published", (record.failure, fleet.logs()[-4000:])
        began = max(t.at for t in record.history if t.state == "publishing" and t.attempt == publishing.attempt)
        assert down < began < up, "the worker must have started publishing while S3 was down"
        states = [(t.state.value, t.attempt) for t in record.history]
        assert [s for s, _ in states].count("published") == 1
        storage = private_s3_server.storage(prefix)
        version = str(record.output).rsplit("/", 1)[-1]
        base = f"outputs/small/{version}"
        _, hls = hls_references(storage, f"{base}/master.m3u8")
        _, dash = dash_references(storage, f"{base}/manifest.mpd")
        assert not missing(storage, hls | dash)
        print(f"\nS3 down {up - down:.1f}s from QC; publishing began {began - down:.2f}s into the outage; "
              f"published as {version} on attempt {record.attempt} "
              f"({'botocore retries' if record.attempt == 1 else 'job retry'}); history {states}")
        storage.close()
        store.close()


# --- 5. wrong credentials ---------------------------------------------------------------------------------


def test_wrong_s3_credentials_fail_once_with_a_clear_reason(tmp_path: Path, redis_url: str,
                                                            s3_server: SeaweedServer, small_source: Path) -> None:
    """The submitter's credentials are right (the master is uploaded); the worker's secret is wrong. The job
    fails at its first fetch with storage_access_denied (not retryable), once, and `vodfleet status` says
    what went wrong and what to do."""
    url = fresh_db(redis_url, 11)
    settings = s3_settings(s3_server, "creds-" + secrets.token_hex(4))
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url, **settings):
        right = fleet.env
        fleet.env = {**right, "VODFLEET_S3_SECRET_KEY": "not-the-secret"}
        fleet.worker(name="wrongkey")
        fleet.env = right
        started = time.monotonic()
        done = fleet.cli("submit", str(small_source), *DRAFT, "--wait", timeout=120)
        took = time.monotonic() - started
        assert done.returncode == 6, done.stdout + done.stderr  # configuration problem (README exit codes)
        job = done.stdout.splitlines()[0]
        time.sleep(1.5)  # nothing may happen after the failure
        record = status(fleet, job)
        assert record["state"] == "failed" and record["attempt"] == 1
        assert [s for s, _ in history(record)] == ["queued", "fetching", "failed"]
        failure = record["failure"]
        assert isinstance(failure, dict)
        assert failure["code"] == "storage_access_denied" and failure["retryable"] is False
        assert "SignatureDoesNotMatch" in failure["message"] or "403" in failure["message"], failure
        assert "VODFLEET_S3_SECRET_KEY" in failure["hint"]
        shown = fleet.cli("status", job)
        assert shown.returncode == 0
        assert "state    failed" in shown.stdout
        assert f"error    [storage_access_denied] {failure['message']}" in shown.stdout
        assert "what to do: check the access key and secret" in shown.stdout
        assert "will be retried" not in shown.stdout
        assert broker_messages(url, JOBS_QUEUE) == []  # no retry was queued
        print(f"\nwrong credentials: failed in {took:.1f}s (submit --wait)\n{shown.stdout}")


# --- 6. a job that kills its worker every time ------------------------------------------------------------


def test_job_that_kills_its_worker_ends_in_the_dead_letter_queue(tmp_path: Path, redis_url: str,
                                                                 small_source: Path) -> None:
    """Every worker dies (os._exit, via the test-only workers.delivery.faults hook) when the job reaches encoding.
    A supervisor restarts dead workers, as a container orchestrator would. The job is delivered
    max_attempts (2) times, then fails with attempts_exhausted and its message is on `vodfleet.dead`."""
    url = fresh_db(redis_url, 12)
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url, max_attempts="2"):
        fleet.env[KILL_WORKER_AT] = "encoding"
        store = open_store(url)
        first = fleet.worker(name="crashy")
        job = submit(fleet, small_source)
        deaths, current = fleet.supervise(first, partial(record_failed, store, job), 120, "the job to fail")
        record = job_record(store, job)
        assert record is not None and record.failure is not None
        assert record.failure.code == "attempts_exhausted" and not record.failure.retryable
        assert record.attempt == 3  # two deliveries died in encoding; the third found no attempts left
        assert deaths == [EXIT_STATUS, EXIT_STATUS], deaths
        states = [(t.state.value, t.attempt) for t in record.history]
        assert states.count(("encoding", 1)) == states.count(("encoding", 2)) == 1
        assert ("queued", 1) in states and ("queued", 2) in states  # requeued by a watchdog each time
        assert "published" not in [s for s, _ in states]
        time.sleep(1.0)
        assert current.poll() is None, "the worker that ended the job must survive"
        assert not ffmpegs_under(fleet.state)
        dead = broker_messages(url, DEAD_QUEUE)
        assert len(dead) == 1, dead
        assert dead[0].headers["task"] == RUN_JOB and dead[0].decode()[0] == [job]
        shown = fleet.cli("status", job)
        assert "[attempts_exhausted]" in shown.stdout and "what to do:" in shown.stdout
        print(f"\nkiller job: worker exits {deaths}, history {states}")
        store.close()


# --- 7. cancel --------------------------------------------------------------------------------------------


def test_cancel_mid_encode(redis_fleet: Fleet, long_source: Path, small_source: Path) -> None:
    """`vodfleet cancel` while ffmpeg encodes: cancelled within seconds, ffmpeg gone, scratch empty, nothing
    published; the worker goes on to the next job."""
    store = open_store(redis_fleet.env["VODFLEET_STORE_URL"])
    redis_fleet.worker()
    job = submit(redis_fleet, long_source)
    wait_state(store, job, encoding_at(10), 120, "10 % of the encode", redis_fleet)
    assert ffmpegs_under(redis_fleet.state)
    asked = time.monotonic()
    done = redis_fleet.cli("cancel", job)
    assert done.returncode == 0 and "cancel requested (running)" in done.stdout, done.stdout + done.stderr
    record = wait_state(store, job, lambda r: r.state == "cancelled", 10, "the cancel", redis_fleet)
    took = time.monotonic() - asked
    assert record.history[-1].detail == "cancelled while running"
    wait_for(lambda: not ffmpegs_under(redis_fleet.state), 5, "ffmpeg to stop", redis_fleet)
    wait_for(lambda: not list((redis_fleet.state / "scratch").iterdir()), 5, "scratch to be removed", redis_fleet)
    assert published_versions(redis_fleet, "long") == []
    assert not (redis_fleet.state / "storage" / "outputs").exists()
    again = redis_fleet.cli("cancel", job)
    assert "already cancelled" in again.stdout
    second = submit(redis_fleet, small_source)
    wait_state(store, second, lambda r: r.state == "published", 90, "the next job", redis_fleet, poll=0.3)
    assert job_record(store, job) is not None and store.get(job).state == "cancelled"  # type: ignore[union-attr]
    print(f"\ncancel: cancelled {took:.2f}s after `vodfleet cancel` was started")
    store.close()


# --- 8. SIGKILL on RabbitMQ -------------------------------------------------------------------------------


@pytest.fixture
def amqp_fleet(tmp_path: Path, amqp_url: str, redis_url: str) -> Iterator[Fleet]:
    yield from make_fleet(tmp_path, broker_url=amqp_url, store_url=fresh_db(redis_url, 13))


def test_sigkill_mid_encode_on_rabbitmq(amqp_fleet: Fleet, long_source: Path) -> None:
    """RabbitMQ redelivers a SIGKILLed worker's unacked message when its connection drops. The second worker
    runs WITHOUT a watchdog and starts after the dead worker's lease lapsed, so only that redelivery can bring
    the job back: it takes the lapsed lease over (the record still says "encoding") and publishes the job
    exactly once, on attempt 2; no message is left on the queue. (This failed with illegal_transition
    encoding → fetching before runjob requeued a RUNNING record it takes over.)"""
    fleet = amqp_fleet
    store = open_store(fleet.env["VODFLEET_STORE_URL"])
    first = fleet.worker(name="a")
    job = submit(fleet, long_source)
    wait_state(store, job, encoding_at(25), 120, "25 % of the encode", fleet)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    wait_for(lambda: not ffmpegs_under(fleet.state), 5, "ffmpeg to die with its worker", fleet)
    time.sleep(float(fleet.env["VODFLEET_LEASE_TTL"]) + 0.5)  # the dead worker's lease has lapsed
    fleet.worker("--no-watchdog", name="b")
    record = wait_state(store, job, lambda r: r.state in ("published", "failed", "cancelled"), 180,
                        "the job to end on worker b", fleet, poll=0.3)
    states = [(t.state.value, t.attempt) for t in record.history]
    assert record.state == "published", (record.failure, states)
    assert record.attempt == 2, states
    assert [s for s, _ in states].count("published") == 1 and ("published", 2) in states
    assert ("queued", 1) in states
    assert published_versions(fleet, "long") == ["v0001"]
    time.sleep(1.0)
    assert broker_messages(fleet.env["VODFLEET_BROKER_URL"], JOBS_QUEUE) == []
    requeued = next(t.detail for t in record.history if t.state == "queued" and t.attempt == 1)
    assert requeued.startswith("lease expired (worker lost during attempt 1); taken over by"), requeued
    print(f"\nrabbitmq SIGKILL: history {states}; requeued: {requeued}")
    store.close()

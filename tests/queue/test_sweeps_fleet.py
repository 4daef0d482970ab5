"""Hole 5 of issue 14, on real `vodfleet worker` processes (the embedded default: filesystem broker, SQLite store;
local storage or SeaweedFS): what dead and interrupted attempts leave behind is swept, a publish retry reuses
the finished encode, a storage outage of 90 s is waited out, the embedded broker's processed files are pruned.
Each test says what it proves."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet.seaweed_server import SeaweedServer
from fleetkit import Fleet, make_fleet, s3_settings, wait_record
from mediagen import make_source
from test_fleet import DRAFT, history
from test_s3_jobs import dash_references, hls_references, missing

from workers.delivery.faults import EXIT_STATUS, FAIL_PUBLISH, KILL_WORKER_AT
from workers.jobs.state import JobRecord
from workers.publish.sweep import claim_swept
from workers.storage import LocalStorage, S3Storage
from workers.storage.base import Storage
from workers.store import open_store
from workers.store.base import JobStore

pytestmark = [pytest.mark.queue, pytest.mark.media]


@pytest.fixture(scope="module")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("swsrc") / "small.mp4", width=320, height=180, duration=4)


@pytest.fixture(scope="module")
def long_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Several seconds of encoding on 2 cores: time to kill the worker mid-encode."""
    return make_source(tmp_path_factory.mktemp("swsrc") / "long.mp4", width=1280, height=720, duration=16)


def store_of(fleet: Fleet) -> JobStore:
    return open_store(f"sqlite:///{fleet.state / 'jobs.sqlite'}")



def ended(record: JobRecord) -> bool:
    return record.state in ("published", "failed", "cancelled")


def submit(fleet: Fleet, source: Path, *extra: str) -> str:
    done = fleet.cli("submit", str(source), *DRAFT, *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def encodes(record: JobRecord) -> list[int]:
    """The attempts that ran an encode (entered ``encoding``)."""
    return [t.attempt for t in record.history if t.state == "encoding"]


def assert_complete(storage: Storage, location: str, title: str) -> str:
    version = location.rstrip("/").rsplit("/", 1)[-1]
    base = f"outputs/{title}/{version}"
    _, hls = hls_references(storage, f"{base}/master.m3u8")
    _, dash = dash_references(storage, f"{base}/manifest.mpd")
    assert hls and dash and not missing(storage, hls | dash)
    return version


# --- 1. a SIGKILLed worker's scratch ---------------------------------------------------------------------------


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Fleet]:
    yield from make_fleet(tmp_path)


def test_a_sigkilled_workers_scratch_is_swept_by_the_next_worker(embedded: Fleet, long_source: Path) -> None:
    """A worker SIGKILLed mid-encode leaves its attempt's scratch (master + partial output); the worker started
    after it removes that folder once the dead attempt's lease has lapsed, and the job publishes."""
    fleet, store = embedded, store_of(embedded)
    worker = fleet.worker()
    job = submit(fleet, long_source)
    wait_record(store, job, lambda r: r.state == "encoding" and (r.percent or 0) >= 10, 120, "10 % encoded", fleet)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    scratch = fleet.state / "scratch"
    left = [p for p in scratch.glob("vodfleet-job-*") if p.is_dir()]
    assert len(left) == 1, left
    size = folder_bytes(left[0])
    fleet.worker(name="second")
    record = wait_record(store, job, ended, 180, "the job to end on the second worker", fleet)
    assert record.state == "published", (record.failure, fleet.logs()[-3000:])
    deadline = time.monotonic() + 20
    while left[0].exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    print(f"\nscratch of the killed attempt: {size / 1e6:.1f} MB in {left[0].name}; swept: {not left[0].exists()}")
    assert size > 100_000, "the killed attempt must have left its master and partial output"
    assert not left[0].exists(), fleet.logs()[-3000:]
    assert [p.name for p in scratch.glob("vodfleet-*")] == []
    store.close()


# --- 3. a publish retry reuses the finished encode -------------------------------------------------------------


def test_a_publish_retry_publishes_the_finished_encode_without_encoding_again(embedded: Fleet,
                                                                              small_source: Path) -> None:
    """The first publish fails after the encode (test fault: storage_unavailable); the retry publishes the kept,
    QC-passed output: one encode in the job's history, two attempts, the output complete."""
    fleet, store = embedded, store_of(embedded)
    fleet.env[FAIL_PUBLISH] = "1"
    fleet.worker()
    job = submit(fleet, small_source)
    record = wait_record(store, job, ended, 180, "the job to end", fleet)
    assert record.state == "published", (record.failure, fleet.logs()[-3000:])
    print(f"\npublish retry: history {history(record.model_dump(mode='json'))}")
    assert record.attempt == 2
    assert encodes(record) == [1], "the retry must not encode again"
    assert any("no encode" in t.detail for t in record.history if t.attempt == 2)
    assert_complete(LocalStorage(fleet.state / "storage"), str(record.output).removeprefix(
        f"file://{fleet.state / 'storage'}/"), "small")
    assert not (fleet.state / "scratch" / "finished" / job).exists(), "the kept encode goes when the job ends"
    store.close()


# --- 2. a partial version of a killed publish ------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_killed_publish_leaves_a_partial_version_that_is_swept(backend: str, tmp_path: Path, small_source: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    """The worker dies (test fault) once the publish uploaded its media phase: v0001 holds media and no master.
    The next worker's retry sweeps v0001 (claimed, never committed, its attempt not publishing; grace 0 here)
    and publishes v0002, complete."""
    settings: dict[str, str] = {"claim_grace": "0"}
    storage: Storage
    if backend == "s3":
        server: SeaweedServer = request.getfixturevalue("s3_server")
        prefix = "sweep-" + secrets.token_hex(4)
        settings |= s3_settings(server, prefix)
        storage = server.storage(prefix)
    for fleet in make_fleet(tmp_path, **settings):
        if backend == "local":
            storage = LocalStorage(fleet.state / "storage")
        store = store_of(fleet)
        fleet.env[KILL_WORKER_AT] = "published-media"
        first = fleet.worker()
        job = submit(fleet, small_source)
        assert first.wait(180) == EXIT_STATUS, fleet.logs()[-3000:]
        partial = [info.key for info in storage.list("outputs/small/v0001/")]
        assert partial and not any(key.endswith(("master.m3u8", "manifest.mpd")) for key in partial), partial
        del fleet.env[KILL_WORKER_AT]
        fleet.worker(name="second")
        record = wait_record(store, job, ended, 180, "the retry to end", fleet)
        assert record.state == "published", (record.failure, fleet.logs()[-3000:])
        location = str(record.output)
        relative = location.split("/outputs/", 1)[1]
        version = assert_complete(storage, f"outputs/{relative}", "small")
        left = [info.key for info in storage.list("outputs/small/v0001/")]
        print(f"\n{backend}: killed publish left {len(partial)} objects in v0001; published {version}; "
              f"{len(left)} objects of v0001 left")
        assert version == "v0002"
        assert left == [], left
        assert claim_swept(storage, "outputs/small", "v0001")
        store.close()
    if isinstance(storage, S3Storage):
        storage.close()


# --- 4. a storage outage of 90 s -------------------------------------------------------------------------------


def test_an_s3_outage_of_90_s_is_waited_out(tmp_path: Path, private_s3_server: SeaweedServer,
                                            small_source: Path) -> None:
    """SeaweedFS is stopped as the job reaches QC and started again on its port 90 s later. With two attempts
    allowed, the publish's storage_unavailable failures are retried by the outage budget (minutes), not counted
    as attempts: the job publishes, complete, on the encode it made before the outage."""
    prefix = "outage-" + secrets.token_hex(4)
    for fleet in make_fleet(tmp_path, max_attempts="2", s3_max_attempts="2", **s3_settings(private_s3_server, prefix)):
        store = store_of(fleet)
        fleet.worker()
        job = submit(fleet, small_source)
        wait_record(store, job, lambda r: r.state in ("qc", "publishing", "published"), 120, "QC", fleet)
        private_s3_server.stop(kill=True)
        down = time.monotonic()
        time.sleep(90)
        private_s3_server.start()
        print(f"\nS3 down {time.monotonic() - down:.0f} s")
        record = wait_record(store, job, ended, 180, "the job to end after the outage", fleet)
        assert record.state == "published", (record.failure, fleet.logs()[-3000:])
        outage_retries = [t for t in record.history if t.detail.startswith("storage_unavailable: retry")]
        print(f"outage: {len(outage_retries)} storage_unavailable retries, {record.attempt} attempts, "
              f"encodes in attempts {encodes(record)}")
        assert len(outage_retries) >= 2, "more outage retries than max_attempts allows"
        assert encodes(record) == [1]
        storage = private_s3_server.storage(prefix)
        assert_complete(storage, f"outputs/{str(record.output).split('/outputs/', 1)[1]}", "small")
        storage.close()
        store.close()


# --- 5. the embedded broker's processed files ------------------------------------------------------------------


def test_the_embedded_brokers_processed_files_are_pruned(tmp_path: Path, small_source: Path) -> None:
    """Three jobs through the embedded broker with VODFLEET_BROKER_PROCESSED_MAX=1: processed/ holds at most one
    message file after the worker's next sweep (kombu keeps one per message forever otherwise)."""
    for fleet in make_fleet(tmp_path, broker_processed_max="1"):
        store = store_of(fleet)
        fleet.worker()
        jobs = [submit(fleet, small_source, "--output-prefix", f"outputs/p{n}") for n in range(3)]
        for job in jobs:
            record = wait_record(store, job, ended, 180, f"job {job}", fleet)
            assert record.state == "published", record.failure
        folder = fleet.state / "broker" / "processed"
        deadline = time.monotonic() + 10
        while len(list(folder.iterdir())) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        kept = sorted(p.name for p in folder.iterdir())
        print(f"\nprocessed/ after 3 jobs: {len(kept)} files")
        assert len(kept) <= 1, kept
        store.close()

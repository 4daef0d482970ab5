"""The fleet end to end: the CLI submits, separate `vodfleet worker` processes transcode and publish.

Real brokers (embedded filesystem, Redis, RabbitMQ), real state stores, real ffmpeg. Sources are tiny
except where a kill mid-encode needs time.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from fleetkit import Fleet, make_fleet
from mediagen import make_source

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


@pytest.fixture(scope="module")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "small.mp4", width=320, height=180, duration=4)


@pytest.fixture(scope="module")
def long_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "long.mp4", width=1280, height=720, duration=20)


def status(fleet: Fleet, job: str) -> dict[str, object]:
    done = fleet.cli("status", job, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def wait_for(check: Callable[[], bool], timeout: float, what: str, fleet: Fleet) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n--- worker logs ---\n{fleet.logs()[-4000:]}")


def history(record: dict[str, object]) -> list[tuple[str, int]]:
    return [(str(t["state"]), int(t["attempt"])) for t in record["history"]]  # type: ignore[attr-defined]


def ffmpegs_under(folder: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "ffmpeg" and str(folder) in cmdline:
            found.append(proc)
    return found


def published_files(fleet: Fleet, record: dict[str, object]) -> list[Path]:
    location = str(record["output"])
    assert location.startswith("file://"), location
    return sorted(p for p in Path(location.removeprefix("file://")).rglob("*") if p.is_file())


def submit_and_wait(fleet: Fleet, source: Path, *extra: str) -> tuple[str, dict[str, object]]:
    done = fleet.cli("submit", str(source), *DRAFT, *extra, "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + fleet.logs()[-4000:]
    job = done.stdout.splitlines()[0]
    assert "published: file://" in done.stdout
    return job, status(fleet, job)


def queue_to_start(record: dict[str, object]) -> float:
    times = {t["state"]: t["at"] for t in record["history"]}  # type: ignore[attr-defined]
    return float(times["fetching"]) - float(times["queued"])


def test_embedded_default_worker_and_submit_wait(embedded_fleet: Fleet, small_source: Path) -> None:
    """No Redis, no server: filesystem broker + SQLite store + local storage under the state folder."""
    embedded_fleet.worker()
    job, record = submit_and_wait(embedded_fleet, small_source)
    assert record["state"] == "published" and record["attempt"] == 1
    files = {p.name for p in published_files(embedded_fleet, record)}
    assert {"master.m3u8", "manifest.mpd", "report.json"} <= files
    assert {"poster.jpg", "sprite_0001.jpg", "thumbnails.vtt"} <= files  # thumbnails go through publish too
    assert queue_to_start(record) < 5
    listed = embedded_fleet.cli("jobs", "--state", "published")
    assert job in listed.stdout
    assert not list((embedded_fleet.state / "scratch").iterdir())


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_fleet_brokers(tmp_path: Path, request: pytest.FixtureRequest, redis_url: str, broker: str,
                       small_source: Path) -> None:
    broker_url = f"{redis_url}/3" if broker == "redis" else request.getfixturevalue("amqp_url")
    for fleet in make_fleet(tmp_path, broker_url=broker_url, store_url=f"{redis_url}/4"):
        fleet.worker()
        _job, record = submit_and_wait(fleet, small_source, "--force")
        assert record["state"] == "published"
        assert queue_to_start(record) < 5


def test_same_job_twice_is_one_encode_and_one_publish(redis_fleet: Fleet, small_source: Path) -> None:
    first = redis_fleet.cli("submit", str(small_source), *DRAFT)
    second = redis_fleet.cli("submit", str(small_source), *DRAFT)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    job = first.stdout.strip()
    assert second.stdout.strip() == job
    assert "already submitted" in second.stderr
    redis_fleet.worker()
    job_again, record = submit_and_wait(redis_fleet, small_source)
    assert job_again == job
    assert [s for s, _ in history(record)].count("fetching") == 1
    assert [s for s, _ in history(record)].count("published") == 1
    assert record["attempt"] == 1  # one delivery ever took the lease
    forced = redis_fleet.cli("submit", str(small_source), *DRAFT, "--force")
    assert forced.stdout.strip() != job


def test_corrupt_master_fails_once_with_input_rejected(redis_fleet: Fleet, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    redis_fleet.worker()
    done = redis_fleet.cli("submit", str(corrupt), *DRAFT, "--wait", timeout=120)
    assert done.returncode == 3, done.stderr
    job = done.stdout.splitlines()[0]
    record = status(redis_fleet, job)
    assert record["state"] == "failed" and record["attempt"] == 1
    failure = record["failure"]
    assert isinstance(failure, dict)
    assert str(failure["code"]).startswith("source_") and not failure["retryable"]
    assert failure["exit_code"] == 3  # input rejected
    assert "what to do:" in done.stderr


def test_sigkill_mid_encode_completes_once_on_a_second_worker(redis_fleet: Fleet, long_source: Path) -> None:
    first = redis_fleet.worker(name="a")
    job = redis_fleet.cli("submit", str(long_source), *DRAFT).stdout.strip()

    def encoding_30() -> bool:
        r = status(redis_fleet, job)
        return r["state"] == "encoding" and float(r["percent"] or 0) >= 30  # type: ignore[arg-type]

    wait_for(encoding_30, 120, "30 % of the encode", redis_fleet)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    wait_for(lambda: not ffmpegs_under(redis_fleet.state), 5, "ffmpeg to die with its worker", redis_fleet)
    redis_fleet.worker(name="b")
    wait_for(lambda: status(redis_fleet, job)["state"] == "published", 180, "publish on worker b", redis_fleet)
    record = status(redis_fleet, job)
    assert record["attempt"] == 2
    states = history(record)
    assert states.count(("published", 2)) == 1
    assert ("queued", 1) in states  # requeued by the watchdog after the lease lapsed
    assert not [s for s in states if s[0] == "published" and s[1] != 2]


def test_sigterm_hands_the_message_back(redis_fleet: Fleet, long_source: Path) -> None:
    first = redis_fleet.worker(name="a")
    job = redis_fleet.cli("submit", str(long_source), *DRAFT).stdout.strip()

    def encoding() -> bool:
        r = status(redis_fleet, job)
        return r["state"] == "encoding" and float(r["percent"] or 0) >= 5  # type: ignore[arg-type]

    wait_for(encoding, 120, "the encode to start", redis_fleet)
    stopped = time.monotonic()
    first.send_signal(signal.SIGTERM)
    first.wait(15)
    grace = time.monotonic() - stopped
    assert grace < 10
    assert not ffmpegs_under(redis_fleet.state)
    assert not list((redis_fleet.state / "scratch").iterdir())
    record = status(redis_fleet, job)
    assert record["state"] == "queued"
    assert "worker shutting down" in str(record["history"][-1]["detail"])  # type: ignore[index]
    redis_fleet.worker(name="b")  # the lease was released: only the returned message can bring it back
    wait_for(lambda: status(redis_fleet, job)["state"] == "published", 180, "publish on worker b", redis_fleet)
    assert status(redis_fleet, job)["attempt"] == 2

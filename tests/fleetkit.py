"""Shared helpers of the fleet tests (processes, ports, the fleet under test); fixtures: tests/queue/conftest.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TypeVar

import pytest
from fleet.seaweed_server import BUCKET, SeaweedServer  # tests/ is on sys.path (tests/conftest.py)

from workers.jobs.state import JobRecord
from workers.settings import Settings
from workers.store.base import JobStore

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(binary: str, apt: str) -> str:
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} not found (apt-get install -y {apt})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before opening port {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def vodfleet_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers.cli", *args]


class Fleet:
    """One fleet configuration (env), the workers started for it, and helpers to drive the CLI."""

    def __init__(self, state: Path, env: dict[str, str]) -> None:
        self.state = state
        self.env = env
        self.workers: list[subprocess.Popen[bytes]] = []
        self.names: dict[int, str] = {}  # pid → the name a worker was started with
        self._logs: list[IO[bytes]] = []

    def settings(self) -> Settings:
        """The fleet's broker, store and state folder as Settings (for the tests' own store and queue reads)."""
        return Settings(**{k.removeprefix("VODFLEET_").lower(): v for k, v in self.env.items()
                           if k in ("VODFLEET_BROKER_URL", "VODFLEET_STORE_URL", "VODFLEET_STATE_DIR")})

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(vodfleet_argv(*args), env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def worker(self, *args: str, name: str = "w", wrap: Sequence[str] = ()) -> subprocess.Popen[bytes]:
        """Start `vodfleet worker` (`wrap`: a command it runs under, e.g. `tiny_scratch_wrap`)."""
        log = (self.state / f"worker-{name}-{len(self.workers)}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen([*wrap, *vodfleet_argv("worker", *args)], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)
        self.workers.append(proc)
        self.names[proc.pid] = name
        return proc

    def supervise(self, current: subprocess.Popen[bytes], done: Callable[[], bool], timeout: float,
                  what: str) -> tuple[list[int], subprocess.Popen[bytes]]:
        """Keep worker `current` running, restarting it under its name when it dies (as an orchestrator would),
        until `done()`. Return the exit codes of the deaths and the live worker."""
        name = self.names[current.pid]
        deaths: list[int] = []
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}\n{self.logs()[-5000:]}")
            if current.poll() is not None:
                deaths.append(current.returncode)
                current = self.worker(name=name)
            time.sleep(0.1)
        return deaths, current

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.state.glob("worker-*.log")))

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()



T = TypeVar("T")


def wait(check: Callable[[], T], timeout: float, what: str, fleet: Fleet) -> T:
    """Poll `check` until it returns something truthy; past `timeout` s fail with the workers' log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{fleet.logs()[-4000:]}")


def wait_record(store: JobStore, job: str, check: Callable[[JobRecord], bool], timeout: float, what: str,
                fleet: Fleet) -> JobRecord:
    """Poll the job's record (every 50 ms: a short state is not missed) until `check` holds; past `timeout` s fail
    with the record and the workers' log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = store.get(job)
        if record is not None and check(record):
            return record
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}: {store.get(job)}\n--- worker logs ---\n"
                f"{fleet.logs()[-5000:]}")


def make_fleet(tmp_path: Path, **settings: str) -> Iterator[Fleet]:
    state = tmp_path / "state"
    state.mkdir()
    env = {**os.environ, "VODFLEET_STATE_DIR": str(state), "VODFLEET_LEASE_TTL": "3",
           "VODFLEET_WATCHDOG_INTERVAL": "0.5", "PYTHONUNBUFFERED": "1"}
    env.update({f"VODFLEET_{k.upper()}": v for k, v in settings.items()})
    fleet = Fleet(state, env)
    try:
        yield fleet
    finally:
        fleet.stop()


class RedisServer:
    """A Redis of one test's own (AOF, fsync always), which the test may kill and start again on its port."""

    def __init__(self, folder: Path) -> None:
        self.binary = require("redis-server", "redis-server")
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--daemonize", "no", "--dir", str(self.folder)], stdout=subprocess.DEVNULL)
        wait_port(self.port, 10, self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def s3_settings(server: SeaweedServer, prefix: str, *, secret: str | None = None) -> dict[str, str]:
    """make_fleet() settings that put the fleet storage on `server` under s3://BUCKET/prefix."""
    return {"storage_uri": f"s3://{BUCKET}/{prefix}", "s3_endpoint_url": server.endpoint,
            "s3_access_key": server.access_key, "s3_secret_key": secret or server.secret_key}


def fresh_db(redis_url: str, db: int) -> str:
    """A Redis database number of the session server, emptied: no job or message of an earlier test is left
    (tests share one server; a reused number must not leak jobs into the next test's counts)."""
    import redis

    url = f"{redis_url}/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@contextlib.contextmanager
def tiny_disk(folder: Path, size: str = "256k") -> Iterator[Path]:
    """A real tmpfs of `size` mounted on `folder` (a full scratch volume, no mock); skips where mounting is not
    allowed (not root, or no CAP_SYS_ADMIN), fails in CI."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        message = f"cannot mount a tmpfs here: {done.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def tiny_scratch_wrap(folder: Path, size: str = "256k") -> list[str]:
    """A command prefix that runs a worker in its own user and mount namespace with a real tmpfs of `size` on
    `folder` (a full scratch volume without root in the host's namespace, no mock); skips where unprivileged user
    namespaces are off, fails in CI."""
    folder.mkdir(parents=True, exist_ok=True)
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-Urm", "true"], capture_output=True, check=False) if unshare \
        else None
    if probe is None or probe.returncode != 0:
        message = f"no unprivileged user namespaces here: {probe.stderr.decode().strip() if probe else 'no unshare'}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return [unshare or "unshare", "-Urm", "sh", "-c", 'mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@"',
            "sh", size, str(folder)]


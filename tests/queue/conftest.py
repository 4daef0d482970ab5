"""Real services for the fleet tests: Redis, RabbitMQ and SeaweedFS (S3) started here as subprocesses, and real
`vodfleet worker` processes. A missing server binary skips locally and FAILS in CI (CI=true)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet.seaweed_server import SeaweedServer, serve  # tests/ is on sys.path (tests/conftest.py)
from fleetkit import (  # noqa: F401 - re-exported for fixtures
    IN_CI,
    Fleet,
    RedisServer,
    free_port,
    fresh_db,
    make_fleet,
    require,
    s3_settings,
    vodfleet_argv,
    wait_port,
)

from workers.storage import S3Storage


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "queue: needs real Redis/RabbitMQ and `vodfleet worker` processes")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require("redis-server", "redis-server")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    try:
        wait_port(port, 10, proc)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    binary = require("rabbitmq-server", "rabbitmq-server")
    ctl = require("rabbitmqctl", "rabbitmq-server")
    port, dist = free_port(), free_port()
    # Debian's wrapper drops to the `rabbitmq` user: pytest's tmp folders (0700) are out of its reach
    folder = Path(tempfile.mkdtemp(prefix="vodfleet-rabbit-"))
    folder.chmod(0o777)
    node = f"vodfleet{port}@localhost"
    env = {**os.environ, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "ERL_EPMD_ADDRESS": "127.0.0.1",
           "RABBITMQ_NODENAME": node, "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(dist),
           "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"), "RABBITMQ_LOG_BASE": str(folder / "log"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "plugins"), "RABBITMQ_PID_FILE": str(folder / "pid")}
    (folder / "plugins").write_text("[].\n")
    (folder / "plugins").chmod(0o644)
    proc = subprocess.Popen([binary], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 60, proc)
        yield f"amqp://guest:guest@127.0.0.1:{port}//"
    finally:
        subprocess.run([ctl, "-n", node, "stop"], env=env, capture_output=True, timeout=60, check=False)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def embedded_fleet(tmp_path: Path) -> Iterator[Fleet]:
    """The default: filesystem broker + SQLite store + local storage, all under one state folder."""
    yield from make_fleet(tmp_path)


@pytest.fixture
def redis_fleet(tmp_path: Path, redis_url: str) -> Iterator[Fleet]:
    """Redis as broker and store (a fresh database number per test)."""
    url = fresh_db(redis_url, abs(hash(tmp_path.name)) % 15 + 1)
    yield from make_fleet(tmp_path, broker_url=url, store_url=url)


@pytest.fixture
def s3_fleet(tmp_path: Path, redis_url: str, s3_server: SeaweedServer) -> Iterator[tuple[Fleet, S3Storage]]:
    """Redis broker + Redis store + the fleet storage on SeaweedFS under a fresh prefix; and that storage."""
    prefix = "q-" + secrets.token_hex(5)
    url = fresh_db(redis_url, abs(hash(tmp_path.name)) % 15 + 1)
    storage = s3_server.storage(prefix)
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url, **s3_settings(s3_server, prefix)):
        yield fleet, storage
    storage.close()


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis the test may kill and restart (the session's `redis_url` is shared by every test)."""
    server = RedisServer(tmp_path_factory.mktemp("redis-private"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS S3 server (SigV4 enforced) for the session; bucket `BUCKET` exists."""
    yield from serve(tmp_path_factory.mktemp("seaweed-queue"))


@pytest.fixture
def private_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A SeaweedFS of the test's own, for tests that stop and restart it."""
    yield from serve(tmp_path_factory.mktemp("seaweed-queue-private"))

"""The Docker-host autoscaler with real containers and a real Redis: 0 → N workers when the encoder's queue
fills, back to 0 after the cooldown once it is empty (workers drained with SIGTERM, then removed)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker.client import DockerClient, from_env
from docker_support import WorkerImage

from workers.autoscale import POOL_LABEL, DockerPool, Policy
from workers.cli.commands.autoscale import Autoscaler
from workers.queue import routing
from workers.queue.names import RUN_JOB
from workers.settings import Settings

pytestmark = [pytest.mark.docker, pytest.mark.queue]


@pytest.fixture
def docker_client(docker_engine: str) -> Iterator[DockerClient]:
    client = from_env()
    yield client
    client.close()


@pytest.mark.timeout(600)
def test_zero_to_n_to_zero(worker_image: WorkerImage, redis_url: str, docker_client: DockerClient,
                           tmp_path: Path) -> None:
    url = f"{redis_url}/13"
    settings = Settings(broker_url=url, store_url=url, state_dir=tmp_path)
    pool_name = f"test-{secrets.token_hex(4)}"
    pool = DockerPool(docker_client, worker_image.tag, pool_name, network="host", name_prefix=f"vf-as-{pool_name}",
                      grace=30)
    scaler = Autoscaler(settings, pool, Policy(min_replicas=0, max_replicas=2, jobs_per_worker=1, cooldown=3),
                        {"VODFLEET_BROKER_URL": url, "VODFLEET_STORE_URL": url})
    queue = routing.queue_for(str(worker_image.lock["fingerprint"]))
    try:
        assert scaler.queues[0] == queue
        assert scaler.tick().replicas == 0 and pool.running() == []
        for n in range(3):  # messages for jobs the store does not know: a worker acks and drops them
            scaler.app.celery.send_task(RUN_JOB, args=[f"job-{n:024d}"], task_id=f"scale-{n}", queue=queue)
        assert scaler.load() == 3
        decision = scaler.tick()
        assert (decision.target, decision.replicas) == (2, 2)
        assert len(pool.running()) == 2

        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            scaler.tick()
            if scaler.load() == 0 and not docker_client.containers.list(
                    all=True, filters={"label": f"{POOL_LABEL}={pool_name}"}):
                break
            time.sleep(1)
        else:
            pytest.fail(f"pool did not return to 0: load {scaler.load()}, running {pool.running()}")
    finally:
        for container in docker_client.containers.list(all=True, filters={"label": f"{POOL_LABEL}={pool_name}"}):
            container.remove(force=True)

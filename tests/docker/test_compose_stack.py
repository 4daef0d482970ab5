"""The compose stack (docker/compose.yaml) as an operator runs it, on a host that cannot pull images.

Local images of the third-party services (docker/build-services.sh) and the worker image, then the README's
`docker-compose --env-file docker/local-images.env -f docker/compose.yaml up -d` under a project name of its own
on free loopback ports, and from the host exactly as the README documents (`. docker/host.env`):

- jobs submitted from the host are published; master.m3u8 comes back from S3 and parses (m3u8);
- a truncated master fails (source_truncated) and an S3 outage mid-job is retried (storage_unavailable), then
  every PromQL expression of the Grafana dashboard returns data from the running Prometheus, and the failure
  and the retry are counted there (labelled counters are created at 0, so ``increase()`` sees the first one);
- Prometheus scrapes the exporter, the `worker` service and an autoscaled worker; Flower's API lists the
  workers; the autoscaler service goes 0 → N → 0 (its cooldown shortened through the environment);
- the worker service starts without Celery's superuser warning and without ValueError tracebacks.

Everything is removed afterwards (containers, the project's network and volumes).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import m3u8
import pytest
import yaml
from docker_support import REPO, WorkerImage
from fleetkit import free_port
from mediagen import make_faststart, make_source, make_truncated_mp4

from workers.autoscale import POOL_LABEL

pytestmark = pytest.mark.docker

DOCKER = REPO / "docker"
SERVICES_REPO = os.environ.get("VODFLEET_TEST_SERVICES_REPO", "vodfleet")
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")
BUCKET = "vodfleet"
COMPOSE_TIMEOUT = 600


def compose_argv(*args: str) -> list[str]:
    """The README's compose command line (local images), plus `args`."""
    return ["docker-compose", "--env-file", "docker/local-images.env", "-f", "docker/compose.yaml", *args]


def local_images() -> dict[str, str]:
    """docker/local-images.env, with the tags' repository swapped for this run's (VODFLEET_TEST_SERVICES_REPO)."""
    pairs = (line.split("=", 1) for line in (DOCKER / "local-images.env").read_text().splitlines()
             if line and not line.startswith("#"))
    return {k: v.replace("vodfleet/", f"{SERVICES_REPO}/", 1) for k, v in pairs}


def http_json(url: str, timeout: float = 10, headers: dict[str, str] | None = None) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0,
             diagnose: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception as exc:  # noqa: BLE001 - services come up at their own pace; keep the last error
            last, found = exc, None
        if found:
            return found
        time.sleep(interval)
    pytest.fail(f"{what}: not after {timeout} s (last error {last!r})\n{diagnose()}")


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    ports: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)

    def compose(self, *args: str, timeout: float = COMPOSE_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(compose_argv(*args), cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def logs(self, *services: str) -> str:
        done = self.compose("logs", "--no-color", "--tail", "200", *services, timeout=60)
        return done.stdout[-12000:]

    def host_argv(self, *argv: str) -> list[str]:
        """`vodfleet …` on the host, with the README's settings: ``set -a; . docker/host.env; set +a``."""
        return ["bash", "-c", 'set -a; . docker/host.env; set +a; exec vodfleet "$@"', "vodfleet", *argv]

    def host(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.host_argv(*argv), cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def s3(self) -> Any:
        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.ports['S3']}", region_name="us-east-1",
                            aws_access_key_id="vodfleet", aws_secret_access_key="vodfleet-local-secret")

    def prometheus(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        return http_json(f"http://127.0.0.1:{self.ports['PROMETHEUS']}{path}?{query}")

    def pool(self) -> list[str]:
        done = subprocess.run(["docker", "ps", "-q", "--filter", f"label={POOL_LABEL}={self.project}"],
                              capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.split()

    def remove_pool(self) -> None:
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={POOL_LABEL}={self.project}"],
                             capture_output=True, text=True, timeout=60, check=False).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, timeout=120, check=False)


def build_service_images() -> float:
    started = time.monotonic()
    done = subprocess.run([str(DOCKER / "build-services.sh")], capture_output=True, text=True, timeout=3600,
                          check=False, env={**os.environ, "VODFLEET_SERVICES_REPO": SERVICES_REPO})
    if done.returncode != 0:
        pytest.fail(f"docker/build-services.sh failed ({done.returncode}):\n{done.stdout[-3000:]}"
                    f"\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def prometheus_config(folder: Path) -> Path:
    """docker/prometheus.yml with 2 s scrape and discovery intervals (the test's only change to it)."""
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="2s", evaluation_interval="2s")
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            sd["refresh_interval"] = "2s"
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def stack(worker_image: WorkerImage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    build_seconds = build_service_images()
    folder = tmp_path_factory.mktemp("stack")
    folder.chmod(0o755)
    project = f"vfstack{secrets.token_hex(3)}"
    ports = {name: free_port() for name in ("REDIS", "S3", "EXPORTER", "FLOWER", "PROMETHEUS", "GRAFANA", "API")}
    env = {**os.environ, **local_images(), "COMPOSE_PROJECT_NAME": project,
           "VODFLEET_IMAGE": worker_image.tag, "VODFLEET_PROMETHEUS_CONFIG": str(prometheus_config(folder)),
           "VODFLEET_AUTOSCALE_COOLDOWN": "5", "VODFLEET_AUTOSCALE_INTERVAL": "1", "VODFLEET_AUTOSCALE_MAX": "2",
           # S3 takes ~16 s to restart here: attempts 1 and 2 of the retried job may both meet the outage
           "VODFLEET_MAX_ATTEMPTS": "6",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
           **{f"VODFLEET_{name}_PORT": str(port) for name, port in ports.items()}}
    stack = Stack(project, env, ports, {"build services": build_seconds})
    started = time.monotonic()
    try:
        up = stack.compose("up", "-d")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Pulling" not in up.stdout + up.stderr  # every image is local
        stack.timings["up"] = time.monotonic() - started
        yield stack
    finally:
        stack.compose("stop", "autoscaler", timeout=120)
        stack.remove_pool()
        down = stack.compose("down", "-v", "--remove-orphans", "-t", "20")
        stack.timings["total"] = time.monotonic() - started
        print(f"\ncompose stack timings (s): {json.dumps({k: round(v, 1) for k, v in stack.timings.items()})}")
        assert down.returncode == 0, down.stderr
        left = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"name={project}_"],
                              capture_output=True, text=True, timeout=60, check=True)
        assert left.stdout.split() == []


def submit(stack: Stack, source: Path, prefix: str, *extra: str) -> str:
    done = stack.host("submit", str(source), *DRAFT, "--output-prefix", prefix, *extra)
    assert done.returncode == 0, done.stdout + done.stderr + stack.logs("worker")
    return done.stdout.split()[0]


def record(stack: Stack, job: str) -> dict[str, Any]:
    done = stack.host("status", job, "--json", timeout=60)  # a failed job's status exits non-zero
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def final(stack: Stack, job: str, timeout: float) -> dict[str, Any]:
    result: dict[str, Any] = wait_for(
        f"job {job} to end", lambda: (r := record(stack, job))["state"] in ("published", "failed", "cancelled")
        and r, timeout, diagnose=lambda: stack.logs("worker", "autoscaler"))
    return result


def published(stack: Stack, prefix: str, name: str) -> str:
    """The text of the published `name` (master.m3u8, report.json) under the job's output prefix, from S3."""
    client = stack.s3()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=f"fleet/{prefix}/").get("Contents", [])]
    [key] = [k for k in keys if k.endswith(f"/{name}")]
    text: str = client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    return text


def scraped(stack: Stack) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = stack.prometheus("/api/v1/targets", state="active")["data"]["activeTargets"]
    return targets


def container_ips(stack: Stack, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    done = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                           *ids], capture_output=True, text=True, timeout=60, check=True)
    return set(done.stdout.split())


@pytest.mark.timeout(1800)
def test_the_compose_stack_from_the_host(stack: Stack, tmp_path: Path) -> None:
    t0 = time.monotonic()
    s3 = stack.s3()
    wait_for("the fleet bucket (s3-init)", lambda: any(b["Name"] == BUCKET for b in s3.list_buckets()["Buckets"]),
             120, diagnose=lambda: stack.logs("seaweedfs", "s3-init"))
    wait_for("the worker service ready", lambda: "ready" in stack.logs("worker"), 120,
             diagnose=lambda: stack.logs("worker"))
    assert stack.pool() == []  # the autoscaler starts at 0

    # --- published jobs, submitted from the host; the autoscaler scales up for them --------------------------
    sources = [make_source(tmp_path / f"title{n}.mp4", duration=6.0) for n in range(3)]
    prefixes = [f"stack-{n}-{secrets.token_hex(3)}" for n in range(3)]
    submitting = [subprocess.Popen(stack.host_argv("submit", str(src), *DRAFT, "--output-prefix", prefix), cwd=REPO,
                                   env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for src, prefix in zip(sources, prefixes, strict=True)]  # at once: 3 jobs waiting for 1 worker
    submitted = [proc.communicate(timeout=300) for proc in submitting]
    assert all(proc.returncode == 0 for proc in submitting), submitted
    jobs = [out.split()[0] for out, _ in submitted]
    scaled_up = wait_for("the autoscaler to start workers", lambda: len(stack.pool()) >= 2 and stack.pool(), 60,
                         interval=0.5, diagnose=lambda: stack.logs("autoscaler"))
    ips = container_ips(stack, scaled_up)

    def autoscaled_target_up() -> bool:
        return any(t["health"] == "up" and t["labels"]["instance"].partition(":")[0] in ips
                   for t in scraped(stack) if t["labels"]["job"] == "vodfleet-workers")

    wait_for("Prometheus to scrape an autoscaled worker", autoscaled_target_up, 60,
             diagnose=lambda: json.dumps(scraped(stack), indent=1)[-4000:] + stack.logs("autoscaler"))
    for job, prefix in zip(jobs, prefixes, strict=True):
        done = final(stack, job, 240)
        assert done["state"] == "published", done
        assert done["encoder"] == stack_lock()["fingerprint"]  # pinned to the image's encoder by host.env
        text = published(stack, prefix, "master.m3u8")
        master = m3u8.loads(text)
        assert master.is_variant and len(master.playlists) >= 1
        assert all(p.stream_info.bandwidth and p.stream_info.resolution for p in master.playlists)
        lock = stack_lock()  # both hashes, each under its own name, in the manifest and the report
        assert f"# vodfleet-encoder-fingerprint: {lock['fingerprint']}" in text.splitlines()
        assert f"# vodfleet-encoder-identity: {lock['identity']}" in text.splitlines()
        encoder = json.loads(published(stack, prefix, "report.json"))["encoder"]
        assert (encoder["fingerprint"], encoder["identity"]) == (lock["fingerprint"], lock["identity"])
    stack.timings["published 3 jobs"] = time.monotonic() - t0

    # --- the API service: a token made in its container (README), the published jobs read over HTTP ----------
    made = stack.compose("exec", "-T", "api", "vodfleet", "token", "create", *(a for p in prefixes
                         for a in ("--prefix", p)), "--scope", "read", "--label", "stack test", "--json", timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr + stack.logs("api")
    secret = json.loads(made.stdout)["token"]
    api = f"http://127.0.0.1:{stack.ports['API']}"
    wait_for("the API service healthy", lambda: http_json(f"{api}/healthz") is not None, 120,
             diagnose=lambda: stack.logs("api"))
    listing = http_json(f"{api}/jobs?state=published", headers={"Authorization": f"Bearer {secret}"})
    assert {j["job_id"] for j in listing["jobs"]} >= set(jobs), listing
    assert secret not in stack.logs("api")  # no secret in a log

    # --- a failed job (a truncated master: probed fine on the host, rejected by the worker) -----------------
    truncated = make_truncated_mp4(make_faststart(sources[0], tmp_path / "fs.mp4"), tmp_path / "cut.mp4", keep=0.6)
    failed = final(stack, submit(stack, truncated, f"stack-cut-{secrets.token_hex(3)}"), 240)
    assert failed["state"] == "failed" and failed["failure"]["code"] == "source_truncated", failed

    # --- a retry: S3 is gone when the worker takes the job (storage_unavailable, retryable), then comes back.
    # The job waits in the frozen worker's socket while S3 is killed, so its first S3 call finds no server
    # (fast errors); an S3 killed mid-download would hang on read timeouts instead.
    wait_for("the autoscaler back to 0 before the outage", lambda: stack.pool() == [], 120,
             diagnose=lambda: stack.logs("autoscaler"))
    for step in (("stop", "autoscaler"), ("pause", "worker")):
        done = stack.compose(*step, timeout=120)
        assert done.returncode == 0, done.stderr
    retry_job = submit(stack, make_source(tmp_path / "retry.mp4", duration=3.0), f"stack-retry-{secrets.token_hex(3)}")
    for step in (("kill", "seaweedfs"), ("unpause", "worker")):
        done = stack.compose(*step, timeout=120)
        assert done.returncode == 0, done.stderr

    def requeued_for_s3() -> bool:  # back in the queue after an attempt failed on S3
        last = record(stack, retry_job)["history"][-1]
        return bool(last["state"] == "queued" and str(last["detail"]).startswith("storage_unavailable"))

    wait_for("the job to be requeued after the S3 outage", requeued_for_s3, 120, interval=0.3,
             diagnose=lambda: json.dumps(record(stack, retry_job), indent=1) + stack.logs("worker"))
    for step in (("start", "seaweedfs"), ("start", "autoscaler")):
        done = stack.compose(*step, timeout=120)
        assert done.returncode == 0, done.stderr
    wait_for("S3 back", lambda: any(b["Name"] == BUCKET for b in s3.list_buckets()["Buckets"]), 120)
    retried = final(stack, retry_job, 300)
    assert retried["state"] == "published" and retried["attempt"] >= 2, json.dumps(retried)[-3000:]
    stack.timings["failure and retry"] = time.monotonic() - t0

    # --- Prometheus: every dashboard expression returns data; the failure and the retry are counted ---------
    def series(expr: str) -> list[dict[str, Any]]:
        answer = stack.prometheus("/api/v1/query", query=expr)
        assert answer["status"] == "success", answer
        found: list[dict[str, Any]] = answer["data"]["result"]
        return found

    def counted(expr: str, code: str) -> bool:
        return any(s["metric"].get("code") == code and float(s["value"][1]) > 0 for s in series(expr))

    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "vodfleet.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    failures, retries = (next(e for e in exprs if metric in e) for metric in
                         ("vodfleet_job_failures_total", "vodfleet_job_retries_total"))
    wait_for("the failure in Prometheus", lambda: counted(failures, "source_truncated"), 120,
             diagnose=lambda: json.dumps(series(failures))[-3000:])
    wait_for("the retry in Prometheus", lambda: counted(retries, "storage_unavailable"), 60,
             diagnose=lambda: json.dumps(series(retries))[-3000:])
    empty = [e for e in exprs if not series(e)]
    assert empty == [], f"dashboard expressions without data: {empty}"
    speeds = [float(s["value"][1]) for e in exprs if "encode_speed" in e for s in series(e)]
    assert speeds and all(v > 0 for v in speeds), speeds
    queues = {s["metric"]["queue"] for e in exprs if "vodfleet_queue" in e for s in series(e)}
    assert queues and not any("pidbox" in q or q.startswith("celeryev") for q in queues), queues
    def states() -> dict[str, float]:
        return {s["metric"]["state"]: float(s["value"][1]) for s in series("sum by (state) (vodfleet_jobs)")}

    wait_for("4 published and 1 failed job in Prometheus",
             lambda: states().get("published") == 4 and states().get("failed") == 1, 30, diagnose=lambda: str(states()))
    jobs_up = {t["labels"]["job"] for t in scraped(stack) if t["health"] == "up"}
    assert {"vodfleet-exporter", "vodfleet-workers"} <= jobs_up

    # --- Flower lists the workers (its HTTP API; `inspect` works with the broker's default key separator) ---
    def flower_workers() -> list[str]:
        answer = http_json(f"http://127.0.0.1:{stack.ports['FLOWER']}/api/workers?refresh=1", timeout=30)
        return [name for name in answer if name.startswith("vodfleet-")]

    assert wait_for("Flower to list the workers", flower_workers, 60, diagnose=lambda: stack.logs("flower"))

    # --- the autoscaler drains back to 0; the README's host `vodfleet autoscale` line reaches the stack ------
    wait_for("the autoscaler back to 0", lambda: stack.pool() == [], 120, interval=1,
             diagnose=lambda: stack.logs("autoscaler"))
    stack.timings["scaled back to 0"] = time.monotonic() - t0
    readme_autoscale = readme_line(r"^vodfleet autoscale .*$").replace("vodfleet/worker:latest", stack.env[
        "VODFLEET_IMAGE"])  # this run's tag of the image
    host_scale = stack.host(*readme_autoscale.split()[1:], "--pool", f"{stack.project}-host", "--ticks", "1",
                            timeout=120)
    assert host_scale.returncode == 0, host_scale.stderr
    assert "queues vodfleet.jobs." in host_scale.stderr

    worker_log = stack.logs("worker")
    assert "superuser privileges" not in worker_log and "ValueError" not in worker_log, worker_log[-4000:]


def stack_lock() -> dict[str, object]:
    lock: dict[str, object] = json.loads((DOCKER / "encoder.lock").read_text())
    return lock


def readme_line(pattern: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(pattern, text, re.MULTILINE)
    assert match, pattern
    return match.group(0).split("#")[0].strip()


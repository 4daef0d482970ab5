"""The API in the fleet's deployments: a compose service and a Kubernetes Deployment + Service running
`vodfleet api` from the worker image, hardened like the other services, probed on /healthz and scraped on /metrics
(schema validation of every manifest: tests/docker/test_k8s.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_compose_runs_the_api_hardened_on_loopback() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    api = compose["services"]["api"]
    assert api["command"][:2] == ["vodfleet", "api"] and "--host" in api["command"]
    assert api["read_only"] is True and api["cap_drop"] == ["ALL"] and api["user"] == "10001:10001"
    assert api["ports"] == ["127.0.0.1:${VODFLEET_API_PORT:-8080}:8080"]
    assert api["environment"]["VODFLEET_STORE_URL"] == compose["services"]["worker"]["environment"][
        "VODFLEET_STORE_URL"]  # stateless over the fleet's own store
    assert "healthz" in " ".join(api["healthcheck"]["test"])
    scrape = yaml.safe_load((DOCKER / "prometheus.yml").read_text())["scrape_configs"]
    assert {"job_name": "vodfleet-api", "static_configs": [{"targets": ["api:8080"]}]} in scrape


def test_kubernetes_deployment_and_service_of_the_api() -> None:
    docs: list[dict[str, Any]] = [d for d in yaml.safe_load_all((DOCKER / "k8s" / "api.yaml").read_text()) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    service = next(d for d in docs if d["kind"] == "Service")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["vodfleet", "api"]
    port = container["ports"][0]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert deployment["spec"]["replicas"] >= 2  # stateless: tokens, uploads and tickets live in the storage

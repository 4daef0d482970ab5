"""docker/k8s/ against the schemas, and its numbers against the code they depend on.

- core kinds: the Kubernetes OpenAPI schemas, strict (unknown fields rejected), from `kubernetes-validate`;
- KEDA and prometheus-operator kinds: models generated from their CRDs (`cloudcoil-models-keda`,
  `cloudcoil-models-prometheus-operator`), strict by a round trip (a field the CRD does not know is dropped by the
  model, so the dump differs); trigger metadata is a free map in the CRD: its names are checked against KEDA's
  metrics-api scaler (``keda:"name=…"`` tags of pkg/scalers/metrics_api_scaler.go);
- the ScaledObject's URL against the exporter's Service and /scale (served for real: tests/queue/test_running_work.py);
- the drain timeout and grace period against the chunk sizing (`workers.queue.drain`), itself checked against the real
  chunk planner (`pipelines.chunk.plan_chunks`).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda
from cloudcoil.models.prometheus_operator import v1 as monitoring
from pydantic import BaseModel

from pipelines.chunk import ChunkPolicy, plan_chunks
from workers.fingerprint import read_lock
from workers.jobs.spec import JobSpec
from workers.queue import drain
from workers.queue.names import JOBS_QUEUE
from workers.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
K8S = DOCKER / "k8s"
LOCK = read_lock(DOCKER / "encoder.lock")
KUBERNETES = "1.30.0"  # the oldest minor still in the common managed offerings; the schemas are strict
CRD_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("keda.sh/v1alpha1", "ScaledObject"): keda.ScaledObject,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): keda.TriggerAuthentication,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): monitoring.ServiceMonitor,
    ("monitoring.coreos.com/v1", "PodMonitor"): monitoring.PodMonitor,
}
# KEDA's metrics-api scaler: its trigger metadata names and the `format` enum (kedacore/keda, metrics_api_scaler.go)
METRICS_API_KEYS = {"targetValue", "activationTargetValue", "url", "format", "valueLocation", "unsafeSsl",
                    "aggregateFromKubeServiceEndpoints", "aggregationType", "timeout", "authMode"}
METRICS_API_FORMATS = {"json", "xml", "yaml", "prometheus"}


def manifests() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def one(kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def worker_container() -> dict[str, Any]:
    [container] = one("Deployment", "vodfleet-worker")["spec"]["template"]["spec"]["containers"]
    return container


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


@pytest.mark.parametrize("doc", [d for d in manifests() if (d["apiVersion"], d["kind"]) not in CRD_MODELS],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_core_objects_match_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_strict_validation_rejects_an_unknown_field() -> None:  # the check above can fail
    deployment = one("Deployment", "vodfleet-worker")
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 280
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def crd_round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    model = CRD_MODELS[(doc["apiVersion"], doc["kind"])].model_validate(doc)
    back: dict[str, Any] = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return back


@pytest.mark.parametrize("doc", [d for d in manifests() if (d["apiVersion"], d["kind"]) in CRD_MODELS],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_custom_resources_match_their_crd(doc: dict[str, Any]) -> None:
    assert crd_round_trip(doc) == doc


def test_crd_round_trip_catches_a_misspelt_field() -> None:
    scaled = one("ScaledObject", "vodfleet-worker")
    scaled["spec"]["minReplicaCont"] = 0
    assert crd_round_trip(scaled) != scaled


def test_keda_scales_on_waiting_plus_running_from_the_exporter() -> None:
    objects = [d for d in manifests() if d["kind"] == "ScaledObject"]
    assert [o["metadata"]["name"] for o in objects] == ["vodfleet-worker"]  # one object: every broker
    [scaled] = objects
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == "vodfleet-worker" and spec["minReplicaCount"] == 0
    assert "fallback" not in spec  # an unreachable exporter keeps the current replicas (see the manifest)
    [trigger] = spec["triggers"]
    assert trigger["type"] == "metrics-api" and trigger["metricType"] == "AverageValue"
    meta = trigger["metadata"]
    assert set(meta) <= METRICS_API_KEYS and meta["format"] in METRICS_API_FORMATS
    # replicas = ceil(desired / 1): the exporter's `desired`; active (≥ 1 replica) while anything waits or runs
    assert (meta["valueLocation"], meta["targetValue"], meta["activationTargetValue"]) == ("desired", "1", "0")
    url = urlsplit(meta["url"])
    service = one("Service", "vodfleet-exporter")
    assert url.hostname == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    assert url.port == service["spec"]["ports"][0]["port"] and url.path == "/scale"
    assert parse_qs(url.query) == {"queue": [f"vodfleet.jobs.{LOCK.short}", JOBS_QUEUE]}  # the worker's queues
    [exporter] = one("Deployment", "vodfleet-exporter")["spec"]["template"]["spec"]["containers"]
    assert {f"vodfleet.jobs.{LOCK.short}", JOBS_QUEUE} <= set(exporter["args"][exporter["args"].index("--queues") + 1]
                                                             .split(","))


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(60)])
@pytest.mark.parametrize("segment", [2, 6, 30])
def test_longest_chunk_bound_holds_for_the_real_planner(fps: Fraction, segment: int) -> None:
    policy = ChunkPolicy(threshold_seconds=90, target_seconds=45)
    bound = drain.longest_chunk_seconds(90, 45, segment, policy.preroll_segments)
    for duration in [90.5, 91, 100, 112.4, 112.6, 135, 157.4, 157.6, 200, 301, 599, 3600, 7261.3]:
        for chunk in plan_chunks(duration, segment, segment, fps, policy):
            encoded = (chunk.end_frame - chunk.encode_start_frame) / fps
            assert encoded <= bound, (duration, chunk.index, float(encoded), bound)


def test_drain_and_grace_period_follow_the_chunk_sizing() -> None:
    deployment = one("Deployment", "vodfleet-worker")
    container = worker_container()
    settings = Settings(chunk_threshold=env(container)["VODFLEET_CHUNK_THRESHOLD"],
                        chunk_target=env(container)["VODFLEET_CHUNK_TARGET"])
    speed = float(deployment["metadata"]["annotations"]["vodfleet.io/encode-speed-x-realtime"])
    longest_segment = next(m.le for m in JobSpec.model_fields["segment_seconds"].metadata if hasattr(m, "le"))
    longest = drain.longest_task_seconds(settings.chunk_threshold, settings.chunk_target, longest_segment)
    timeout = drain.drain_seconds(longest, speed)
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command == ["vodfleet", "drain", "--pid", "1", "--timeout", str(timeout)]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == drain.grace_seconds(timeout)
    assert (longest, timeout, pod["terminationGracePeriodSeconds"]) == (116.25, 250, 280)  # as the manifest says
    # and the hard limit a task runs under is far above the drain: a drain never cuts a task the limit allows
    assert settings.time_limits(longest)[1] > timeout

"""The Kubernetes manifests (deploy/k8s), validated offline: no cluster is needed.

The kustomize base is rendered by `kubectl kustomize` (client only) and every object checked
against the Kubernetes OpenAPI schemas shipped in `kubernetes-validate`; then what the
schemas cannot know: the probes hit the services' own ports, consumers never outnumber the
partitions, secrets come only from required Secrets, every variable is a setting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from shared.adapters.settings import Settings

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32.0"
SETTINGS_VARIABLES = {f"PROGRESS_{name.upper()}": name for name in Settings.model_fields}
SECRET_VARIABLES = {
    f"PROGRESS_{name.upper()}"
    for name, field in Settings.model_fields.items()
    if field.annotation is SecretStr
} | {"PROGRESS_MONGO_URL", "PROGRESS_KAFKA_SASL_USERNAME"}
PORT_FIELD_BY_MODULE = {
    "services.gateway": "gateway_port",
    "services.projector": "projector_port",
    "services.retry_worker": "retry_worker_port",
    "services.insights": "insights_port",
}
CONSUMERS = ("services.projector", "services.retry_worker", "services.insights")


@cache
def _rendered() -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the kustomize base cannot be rendered offline")
    done = subprocess.run(
        [kubectl, "kustomize", str(BASE)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"kubectl kustomize {BASE}: {done.stderr}"
    return tuple(document for document in yaml.safe_load_all(done.stdout) if document)


def _objects(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in _rendered() if o["kind"] == kind}


def _containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload name, pod spec, container) for every Deployment's and Job's container."""
    for kind in ("Deployment", "Job"):
        for name, workload in _objects(kind).items():
            pod = workload["spec"]["template"]["spec"]
            for container in pod["containers"]:
                yield name, pod, container


def _module(container: dict[str, Any]) -> str:
    match = re.search(r"python3?\s+-m\s+([\w.]+)", " ".join(container["command"]))
    assert match, f"{container['name']}: no `python -m` command"
    return match.group(1)


def _settings_map() -> dict[str, str]:
    return {str(k): str(v) for k, v in _objects("ConfigMap")["progress-settings"]["data"].items()}


def _workloads_by_module() -> dict[str, str]:
    return {
        _module(container): name
        for name, _, container in _containers()
        if _module(container) in PORT_FIELD_BY_MODULE
    }


def test_every_object_is_valid_against_the_kubernetes_schemas() -> None:
    objects = _rendered()
    assert objects
    for document in objects:
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            name = f"{document['kind']}/{document['metadata']['name']}"
            pytest.fail(f"{name}: {error.message} at {list(error.path)}")


def test_the_validator_refuses_what_kubernetes_would() -> None:
    """The check can fail: an unknown field in a Deployment is refused."""
    deployment = dict(next(iter(_objects("Deployment").values())))
    deployment["spec"] = {**deployment["spec"], "replica": 3}
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_service_runs_from_the_one_image() -> None:
    assert set(_workloads_by_module()) == set(PORT_FIELD_BY_MODULE)
    images = {container["image"] for _, _, container in _containers()}
    assert len(images) == 1, f"one image for every process: {images}"


def test_the_gateway_autoscales_and_keeps_a_replica_through_disruptions() -> None:
    gateway = _workloads_by_module()["services.gateway"]
    scaler = next(
        h
        for h in _objects("HorizontalPodAutoscaler").values()
        if h["spec"]["scaleTargetRef"]
        == {"apiVersion": "apps/v1", "kind": "Deployment", "name": gateway}
    )
    assert scaler["spec"]["minReplicas"] >= 2, "one gateway is a single point of failure"
    assert scaler["spec"]["maxReplicas"] > scaler["spec"]["minReplicas"]
    labels = _objects("Deployment")[gateway]["spec"]["template"]["metadata"]["labels"]
    budgets = [
        budget
        for budget in _objects("PodDisruptionBudget").values()
        if budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ]
    assert budgets, "no PodDisruptionBudget covers the gateway"
    assert budgets[0]["spec"].get("minAvailable", 0) >= 1 or "maxUnavailable" in budgets[0]["spec"]


@pytest.mark.parametrize("module", CONSUMERS)
def test_consumers_never_outnumber_the_partitions(module: str) -> None:
    partitions = int(_settings_map()["PROGRESS_KAFKA_PARTITIONS"])
    name = _workloads_by_module()[module]
    assert _objects("Deployment")[name]["spec"]["replicas"] <= partitions
    scalers = [
        h
        for h in _objects("HorizontalPodAutoscaler").values()
        if h["spec"]["scaleTargetRef"]["name"] == name
    ]
    for scaler in scalers:
        assert scaler["spec"]["maxReplicas"] <= partitions, f"{name}: idle consumers past it"


@pytest.mark.parametrize("module", list(PORT_FIELD_BY_MODULE))
def test_readiness_and_liveness_probe_the_services_own_port(module: str) -> None:
    name = _workloads_by_module()[module]
    (container,) = _objects("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    expected = int(_settings_map()[f"PROGRESS_{PORT_FIELD_BY_MODULE[module].upper()}"])
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        check = container[probe]["httpGet"]
        assert check["path"] == path, f"{name}: {probe} on {check['path']}"
        port = check["port"]
        assert ports.get(port, port) == expected, f"{name}: {probe} on port {port}"


def test_every_variable_is_a_known_setting_and_the_settings_are_valid() -> None:
    variables = dict(_settings_map())
    for _, _, container in _containers():
        names = [entry["name"] for entry in container.get("env", [])]
        unknown = [n for n in names if n not in SETTINGS_VARIABLES]
        assert not unknown, f"{container['name']} sets variables Settings does not read: {unknown}"
        variables.update(dict.fromkeys(names, "secret-given-by-the-operator-at-deploy-time"))
    unknown = sorted(set(variables) - set(SETTINGS_VARIABLES))
    assert not unknown, f"the ConfigMap sets variables Settings does not read: {unknown}"
    kwargs = {SETTINGS_VARIABLES[k]: v for k, v in variables.items()}
    kwargs["kafka_ssl_cafile"] = __file__  # a Secret's file in the pod; any file here
    Settings(_env_file=None, **kwargs)


def test_secrets_come_only_from_required_secrets() -> None:
    assert not SECRET_VARIABLES & set(_settings_map()), "a secret in the ConfigMap"
    for name, pod, container in _containers():
        for entry in container.get("env", []):
            if entry["name"] in SECRET_VARIABLES:
                reference = entry.get("valueFrom", {}).get("secretKeyRef")
                assert reference, f"{name}: {entry['name']} is not taken from a Secret"
                assert not reference.get("optional"), f"{name}: {entry['name']} is optional"
        for source in container.get("envFrom", []):
            assert not source.get("configMapRef", {}).get("optional"), name
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert not volume["secret"].get("optional"), f"{name}: {volume['name']} optional"
    needed = {"PROGRESS_ERASURE_SECRET", "PROGRESS_MONGO_URL", "PROGRESS_KAFKA_SASL_PASSWORD"}
    for module, name in _workloads_by_module().items():
        pod = _objects("Deployment")[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert needed <= {entry["name"] for entry in container["env"]}, module


def test_the_kafka_ca_file_is_mounted_from_a_secret() -> None:
    cafile = Path(_settings_map()["PROGRESS_KAFKA_SSL_CAFILE"])
    for name, pod, container in _containers():
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        volume_name = mounts.get(str(cafile.parent))
        assert volume_name, f"{name}: nothing is mounted at {cafile.parent}"
        volume = next(v for v in pod["volumes"] if v["name"] == volume_name)
        items = {item["path"] for item in volume["secret"].get("items", [])}
        assert not items or cafile.name in items, f"{name}: {cafile.name} is not in the Secret"


def test_pods_run_unprivileged() -> None:
    for name, pod, container in _containers():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert pod.get("automountServiceAccountToken") is False, name

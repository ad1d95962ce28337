"""One set of images everywhere: what compose deploys, Kubernetes runs, `make test-real` tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.support.backends import KAFKA_IMAGE, MONGO_IMAGE

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
KUSTOMIZATION: dict[str, Any] = yaml.safe_load(
    (REPO / "deploy" / "k8s" / "kustomization.yaml").read_text()
)
DEFAULT = re.compile(r"\$\{\w+:-([^}]*)\}")


def _compose_images(prefix: str) -> set[str]:
    images = {str(service.get("image", "")) for service in COMPOSE["services"].values()}
    return {image for image in images if image.startswith(prefix)}


def test_the_real_backend_runs_the_kafka_and_mongodb_of_compose() -> None:
    assert _compose_images("apache/kafka") == {KAFKA_IMAGE}
    assert _compose_images("mongo") == {MONGO_IMAGE}


def test_kubernetes_runs_the_image_compose_builds() -> None:
    (built,) = {
        DEFAULT.sub(r"\1", str(service["image"]))
        for service in COMPOSE["services"].values()
        if "build" in service
    }
    name, _, tag = built.partition(":")
    (entry,) = KUSTOMIZATION["images"]
    assert entry["name"] == name, "the manifests' image is not the one compose builds"
    assert entry.get("newTag") == tag, "the default tags differ"
    manifests = [path for path in (REPO / "deploy" / "k8s").glob("*.yaml")]
    used = {
        match
        for path in manifests
        for match in re.findall(r"^\s+image:\s*(\S+)", path.read_text(), re.MULTILINE)
    }
    assert used == {name}, f"manifests name other images: {used - {name}}"

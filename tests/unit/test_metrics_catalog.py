"""docs/metrics.md documents every metric the code registers, with its type and labels."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY

import services.gateway.app
import services.projector.app
import services.retry_worker.app  # noqa: F401 - importing registers every metric

CATALOG = Path(__file__).parents[2] / "docs" / "metrics.md"
SUFFIXES = {"counter": "_total", "histogram": "", "gauge": ""}


def registered() -> dict[str, tuple[str, list[str]]]:
    found: dict[str, tuple[str, list[str]]] = {}
    for collector in list(REGISTRY._collector_to_names):
        name = getattr(collector, "_name", "")
        kind = getattr(collector, "_type", "")
        if name.startswith("progress_"):
            labels = list(getattr(collector, "_labelnames", ()))
            found[name + SUFFIXES.get(kind, "")] = (kind, labels)
    return found


def documented() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `(progress_[a-z_]+)` \| (\w+) \| ([^|]*) \|", CATALOG.read_text(), re.M)
    return {name: (kind, labels) for name, kind, labels in rows}


def test_every_registered_metric_is_documented_with_its_type_and_labels() -> None:
    docs = documented()
    metrics = registered()
    assert metrics, "no progress_ metric registered: the import above is broken"
    for name, (kind, labels) in metrics.items():
        assert name in docs, f"{name} is registered but missing from docs/metrics.md"
        assert docs[name][0] == kind, f"{name}: docs say {docs[name][0]}, code says {kind}"
        for label in labels:
            assert f"`{label}`" in docs[name][1], f"{name}: label {label} undocumented"


def test_the_catalog_lists_no_metric_that_does_not_exist() -> None:
    assert set(documented()) <= set(registered())

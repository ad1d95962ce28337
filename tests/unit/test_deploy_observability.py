"""Alert rules and the Grafana dashboard: valid, and built only on metrics that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.unit.test_metrics_catalog import registered

DEPLOY = Path(__file__).parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "progress-sync.json"
METRIC = re.compile(r"\bprogress_[a-z_]+")
SERIES_SUFFIXES = ("_bucket", "_count", "_sum")


def referenced(expression: str) -> set[str]:
    names = set()
    for name in METRIC.findall(expression):
        for suffix in SERIES_SUFFIXES:
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
        names.add(name)
    return names


def alert_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    """Every panel's query and every dashboard variable's query."""
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    variables = dashboard.get("templating", {}).get("list", [])
    return panels + [variable["query"]["query"] for variable in variables]


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_only_existing_metrics_are_referenced(source: str) -> None:
    expressions = alert_expressions() if source == "alerts" else dashboard_expressions()
    known = set(registered())
    used = set().union(*(referenced(expression) for expression in expressions))
    assert used, f"the {source} reference no progress_ metric"
    assert used <= known, f"the {source} reference unknown metrics: {sorted(used - known)}"


def test_the_course_funnel_panel_follows_the_course_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "course"]
    assert variable["query"]["query"] == "label_values(progress_insights_course_learners, course)"
    (panel,) = [p for p in dashboard["panels"] if p["title"].startswith("Course funnel")]
    (target,) = panel["targets"]
    assert referenced(target["expr"]) == {"progress_insights_course_learners"}
    assert 'course=~"$course"' in target["expr"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_alerts_cover_what_operators_need() -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    for needed in (
        "ProgressServiceDown",
        "ProgressIngestErrors",
        "ProgressProjectorLagHigh",
        "ProgressConsumerStalled",
        "ProgressRetriesGrowing",
        "ProgressDeadLettersGrowing",
    ):
        assert needed in names
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"]["runbook"], f"{rule['alert']} has no runbook"


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian package prometheus; `make test` installs it as root)",
)
def test_promtool_accepts_the_rules() -> None:
    done = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""Prometheus for the embedded stack: scrape the three services, evaluate the alert rules.

`progressctl run` starts it when the `prometheus` binary is installed (Debian's package,
which `make test` installs for promtool), so an operator can watch the project's alerts
fire on one machine. Its configuration is written for this run's ports; its data stays
under `PROGRESS_DATA_DIR`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from shared.adapters.embedded import EmbeddedServer
from shared.adapters.settings import Settings

__all__ = [
    "ALERT_RULES",
    "METRICS_PROCESSES",
    "metrics_ports",
    "prometheus_config",
    "prometheus_server",
]

ALERT_RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
"""The project's alert rules, the same file the compose stack's Prometheus loads."""

_INTERVAL = "5s"
_RETENTION = "7d"


METRICS_PROCESSES = ("gateway", "projector", "retry-worker", "demo", "insights")
"""The processes of `progressctl run` that serve metrics, in the order of their ports."""


def metrics_ports(settings: Settings) -> dict[str, int]:
    """Each process's metrics port on one machine: `PROGRESS_METRICS_PORT` and the next ones.

    The processes of `progressctl run` share a host, so each needs a port of its own; in
    their own containers (docker-compose) they all use `PROGRESS_METRICS_PORT`.
    """
    return {name: settings.metrics_port + offset for offset, name in enumerate(METRICS_PROCESSES)}


def prometheus_config(settings: Settings, rules: Path | None) -> dict[str, Any]:
    """The configuration: one job per service (named as the alert rules expect) and itself."""
    ports = metrics_ports(settings)
    targets = {
        "gateway": f"{settings.metrics_host}:{ports['gateway']}",
        "projector": f"{settings.metrics_host}:{ports['projector']}",
        "retry-worker": f"{settings.metrics_host}:{ports['retry-worker']}",
        "insights": f"{settings.metrics_host}:{ports['insights']}",
        "prometheus": f"{settings.http_host}:{settings.prometheus_port}",
    }
    return {
        "global": {"scrape_interval": _INTERVAL, "evaluation_interval": _INTERVAL},
        "rule_files": [str(rules)] if rules is not None else [],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }


def prometheus_server(settings: Settings) -> EmbeddedServer | None:
    """Prometheus on `PROGRESS_PROMETHEUS_PORT`, configured for this stack; None if absent.

    Writes its configuration into `PROGRESS_DATA_DIR/prometheus/`, next to its data.
    """
    binary = shutil.which("prometheus")
    if binary is None:
        return None
    directory = settings.data_dir / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    rules = ALERT_RULES if ALERT_RULES.is_file() else None
    config.write_text(yaml.safe_dump(prometheus_config(settings, rules), sort_keys=False))
    return EmbeddedServer(
        name="prometheus",
        argv=[
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--storage.tsdb.retention.time={_RETENTION}",
            f"--web.listen-address={settings.http_host}:{settings.prometheus_port}",
        ],
        host=settings.http_host,
        port=settings.prometheus_port,
        log_path=settings.data_dir / "logs" / "prometheus.log",
    )

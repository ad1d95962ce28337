"""`make run`'s Prometheus: its configuration for this run's ports, and running without one."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from services.progressctl.monitoring import ALERT_RULES, prometheus_config, prometheus_server
from services.progressctl.stack import plan_stack
from shared.adapters.settings import Settings


def settings_in(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        gateway_port=18080,
        projector_port=18081,
        retry_worker_port=18082,
        prometheus_port=19090,
        metrics_port=19464,
    )


def test_the_config_scrapes_each_service_under_the_job_names_the_alerts_use(
    tmp_path: Path,
) -> None:
    config = prometheus_config(settings_in(tmp_path), ALERT_RULES)
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets == {
        "gateway": ["127.0.0.1:19464"],
        "projector": ["127.0.0.1:19465"],
        "retry-worker": ["127.0.0.1:19466"],
        "insights": ["127.0.0.1:19468"],
        "prometheus": ["127.0.0.1:19090"],
    }
    assert config["rule_files"] == [str(ALERT_RULES)]
    assert 'job=~"gateway|projector|retry-worker|insights"' in ALERT_RULES.read_text()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool (make test installs it)")
def test_promtool_accepts_the_written_config_and_its_rules(tmp_path: Path) -> None:
    server = prometheus_server(settings_in(tmp_path))
    if server is None:
        pytest.skip("promtool without prometheus")
    config = tmp_path / "prometheus" / "prometheus.yml"
    assert f"--config.file={config}" in server.argv
    assert yaml.safe_load(config.read_text())["rule_files"] == [str(ALERT_RULES)]
    checked = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_the_binary_the_stack_runs_and_its_banner_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    settings = settings_in(tmp_path)
    assert prometheus_server(settings) is None
    stack = plan_stack(settings)
    assert stack.prometheus is None
    assert "no `prometheus` binary" in stack.monitor


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="no prometheus binary")
def test_a_taken_prometheus_port_skips_prometheus_not_theplan_stack(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        stack = plan_stack(settings_in(tmp_path).model_copy(update={"prometheus_port": port}))
    assert stack.prometheus is None
    assert f"127.0.0.1:{port} is in use" in stack.monitor
    assert "PROGRESS_PROMETHEUS_PORT" in stack.monitor

"""`progressctl run` (what `make run` runs): clear refusal, crash restart, clean Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.progressctl_run import (
    PROGRESSCTL,
    RunningStack,
    alive,
    descendants,
    running_stack,
    stack_env,
)
from tests.support.services import eventually

pytestmark = pytest.mark.e2e


def test_a_taken_port_gives_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            PROGRESSCTL,
            env=stack_env(tmp_path, gateway_port=port),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert "already in use" in done.stderr
    assert f"127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStack]:
    with running_stack(stack_env(tmp_path)) as stack:
        yield stack


def check_demo(running: RunningStack) -> None:
    """The banner's demo URL serves the page, the SDK and a token the gateway accepts."""
    demo = f"http://127.0.0.1:{running.env['PROGRESS_DEMO_PORT']}"
    gateway = f"http://127.0.0.1:{running.env['PROGRESS_GATEWAY_PORT']}"
    assert f"{demo}/" in running.output
    assert "Bread 101" in httpx.get(f"{demo}/").text
    assert httpx.get(f"{demo}/config.json").json()["gatewayUrl"] == gateway
    bundle = httpx.get(f"{demo}/progress-sync.js")
    assert bundle.status_code == 200
    assert "createClient" in bundle.text
    token = httpx.post(f"{demo}/token", json={"userId": "demo-learner"}).json()["token"]
    read = httpx.get(
        f"{gateway}/v1/users/demo-learner/progress",
        headers={"Authorization": f"Bearer {token}", "Origin": demo},
    )
    assert read.status_code == 200, read.text
    assert read.headers["access-control-allow-origin"] == demo


def test_the_stack_serves_the_demo_restarts_a_crashed_service_and_ctrl_c_leaves_nothing(
    running: RunningStack,
) -> None:
    check_demo(running)
    process, env = running.process, running.env
    children = descendants(process.pid)
    assert any("tansu" in command for command in children.values())
    assert any("database_daemon" in command for command in children.values())
    projector = next(pid for pid, command in children.items() if "services.projector" in command)

    os.kill(projector, signal.SIGKILL)
    gateway = f"http://127.0.0.1:{env['PROGRESS_GATEWAY_PORT']}"
    headers = {"Authorization": "Bearer demo-api-key-change-me"}
    event = {
        "eventId": "after-crash",
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "test",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-9", "status": "completed"},
    }
    sent = httpx.put(f"{gateway}/v1/users/u1/progress", json={"events": [event]}, headers=headers)
    assert sent.status_code == 202, sent.text

    def projected() -> bool | None:
        body = httpx.get(f"{gateway}/v1/users/u1/progress", headers=headers).json()
        return True if "lesson-9" in body["snapshot"]["items"] else None

    eventually(projected, timeout=90)
    assert "restarted projector" in running.output

    everything = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=90) == 0
    time.sleep(0.5)
    left = {pid: command for pid, command in everything.items() if alive(pid)}
    assert left == {}, f"left behind: {left}"
    assert "no process left behind" in running.output


@pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="no `prometheus` binary (`make test` installs Debian's package with promtool)",
)
def test_prometheus_scrapes_the_services_with_the_alert_rules_and_stops_with_the_stack(
    running: RunningStack,
) -> None:
    base = f"http://127.0.0.1:{running.env['PROGRESS_PROMETHEUS_PORT']}"
    assert f"prometheus    {base}" in running.output
    jobs = {"gateway", "projector", "retry-worker", "insights"}

    def scraped() -> dict[str, str] | None:
        targets = httpx.get(f"{base}/api/v1/targets").json()["data"]["activeTargets"]
        health = {target["labels"]["job"]: target["health"] for target in targets}
        return health if all(health.get(job) == "up" for job in jobs) else None

    eventually(scraped, timeout=60, interval=1)
    groups = httpx.get(f"{base}/api/v1/rules").json()["data"]["groups"]
    alerts = {rule["name"] for group in groups for rule in group["rules"]}
    assert {"ProgressServiceDown", "ProgressRetriesGrowing"} <= alerts
    prometheus = [
        pid for pid, cmd in descendants(running.process.pid).items() if "prometheus" in cmd
    ]
    assert prometheus

    assert running.stop() == 0
    time.sleep(0.5)
    assert not [pid for pid in prometheus if alive(pid)]

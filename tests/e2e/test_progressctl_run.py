"""`progressctl run` (what `make run` runs): clear refusal, crash restart, clean Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from shared.adapters.embedded import free_port
from tests.support.services import eventually

pytestmark = pytest.mark.e2e

PROGRESSCTL = [sys.executable, "-m", "services.progressctl", "run"]


def stack_env(data_dir: Path, gateway_port: int | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "PROGRESS_DATA_DIR": str(data_dir),
        "PROGRESS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "PROGRESS_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}",
        "PROGRESS_GATEWAY_PORT": str(gateway_port or free_port()),
        "PROGRESS_PROJECTOR_PORT": str(free_port()),
        "PROGRESS_RETRY_WORKER_PORT": str(free_port()),
    }


def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid`, with its command line (Linux /proc)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            )
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = commands.get(child, "")
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


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
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], list[str]]]:
    env = stack_env(tmp_path)
    process = subprocess.Popen(
        PROGRESSCTL, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: output.extend(iter(stream.readline, "")), daemon=True).start()
    try:
        eventually(lambda: True if "Progress Sync is up" in "".join(output) else None, 150)
        yield process, env, output
    finally:
        if process.poll() is None:
            process.kill()
            for pid in descendants(process.pid):
                os.kill(pid, signal.SIGKILL)


def test_crashed_service_is_restarted_and_ctrl_c_leaves_nothing_behind(
    running: tuple[subprocess.Popen[str], dict[str, str], list[str]],
) -> None:
    process, env, output = running
    children = descendants(process.pid)
    assert any("tansu" in command for command in children.values())
    assert any("secantus" in command for command in children.values())
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
    assert "restarted projector" in "".join(output)

    everything = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=90) == 0
    time.sleep(0.5)
    left = {pid: command for pid, command in everything.items() if alive(pid)}
    assert left == {}, f"left behind: {left}"
    assert "no process left behind" in "".join(output)

"""Running `progressctl run` (what `make run` runs) as a child process, and looking at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from services.progressctl.monitoring import METRICS_PROCESSES
from shared.adapters.embedded import free_port, free_ports_in_a_row
from tests.support.services import PRIVATE_GROUP_TIMING, eventually

PROGRESSCTL = [sys.executable, "-m", "services.progressctl", "run"]
UP = "Progress Sync is up"


def stack_env(data_dir: Path, gateway_port: int | None = None) -> dict[str, str]:
    """Free ports for every server of the stack, its data under `data_dir`, and the quick
    group timing of a test's own stack."""
    return {
        **os.environ,
        "PROGRESS_DATA_DIR": str(data_dir),
        "PROGRESS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "PROGRESS_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}",
        "PROGRESS_GATEWAY_PORT": str(gateway_port or free_port()),
        "PROGRESS_PROJECTOR_PORT": str(free_port()),
        "PROGRESS_RETRY_WORKER_PORT": str(free_port()),
        "PROGRESS_INSIGHTS_PORT": str(free_port()),
        "PROGRESS_PROMETHEUS_PORT": str(free_port()),
        "PROGRESS_METRICS_PORT": str(free_ports_in_a_row(len(METRICS_PROCESSES))),
        "PROGRESS_DEMO_PORT": str(free_port()),
        **{f"PROGRESS_{name.upper()}": str(value) for name, value in PRIVATE_GROUP_TIMING.items()},
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
    """True while `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and " Z " not in stat.read_text()


@dataclass
class RunningStack:
    """A `progressctl run` process, its environment and everything it printed so far."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 120.0) -> int:
        """Ctrl-C, as an operator would; the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


@contextmanager
def running_stack(env: dict[str, str], timeout: float = 150.0) -> Iterator[RunningStack]:
    """Start `progressctl run`, wait for its banner; kill whatever is left at the end."""
    process = subprocess.Popen(
        PROGRESSCTL, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    stack = RunningStack(process, env)
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(
        target=lambda: stack.lines.extend(iter(stream.readline, "")), daemon=True
    ).start()
    try:
        eventually(lambda: True if UP in stack.output else None, timeout)
        yield stack
    finally:
        if process.poll() is None:
            process.kill()
            for pid in descendants(process.pid):
                os.kill(pid, signal.SIGKILL)

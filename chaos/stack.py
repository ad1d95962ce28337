"""The stack under test: the embedded broker and database and the three services, private.

Reuses the project's own launchers (`shared.adapters.embedded`, `tests.support.services`)
so the campaign attacks exactly what `make run` and the test suite start. Every process is
launched from the main thread: the launcher asks the kernel to SIGKILL a child when the
*thread* that started it ends, and the main thread is the one that lives until the end.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import (
    EmbeddedServer,
    ServerFailed,
    broker_server,
    database_server,
    free_port,
    port_in_use,
)
from shared.adapters.settings import Settings
from tests.support.services import service_process, settings_for

__all__ = ["SERVICES", "ChaosStack", "start_stack"]

SERVICES = ("gateway", "projector", "retry-worker", "insights", "demo")
_MODULES = {
    "gateway": "services.gateway",
    "projector": "services.projector",
    "retry-worker": "services.retry_worker",
    "insights": "services.insights",
    "demo": "services.demo",
}
_PORT_SETTINGS = {
    "gateway": "gateway_port",
    "projector": "projector_port",
    "retry-worker": "retry_worker_port",
    "insights": "insights_port",
    "demo": "demo_port",
}
_DATABASE = "progress_chaos"


@dataclass
class ChaosStack:
    """The running processes, by role, and where their data and logs live."""

    settings: Settings
    data_dir: Path
    broker: EmbeddedServer
    database: EmbeddedServer
    services: dict[str, EmbeddedServer]
    restarts: dict[str, int] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        """Base URL of the gateway (always 127.0.0.1)."""
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    @property
    def demo_url(self) -> str:
        """Base URL of the SDK demo server (`make run` serves it too, so it is fuzzed)."""
        return f"http://127.0.0.1:{self.settings.demo_port}"

    @property
    def logs(self) -> Path:
        """Directory of every process's log file."""
        return self.data_dir / "logs"

    def all(self) -> list[EmbeddedServer]:
        """Every process, in start order."""
        return [self.broker, self.database, *self.services.values()]

    async def relaunch(self, name: str, within: float = 90.0) -> bool:
        """Start a service again and wait (without blocking the loop) until it listens.

        Returns False when it exits or does not listen within `within` seconds; the
        supervisor then tries again.
        """
        server = self.services[name]
        server.stop()
        try:
            server.launch()
        except ServerFailed:
            return False
        self.restarts[name] = self.restarts.get(name, 0) + 1
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not server.running():
                return False
            if port_in_use(server.host, server.port):
                return True
            await asyncio.sleep(0.1)
        return False

    def stop(self, keep_data: bool) -> None:
        """Stop everything (SIGCONT first, so a paused process can exit); idempotent."""
        for server in reversed(self.all()):
            server.signal(signal.SIGCONT)
        for server in [*self.services.values(), self.database, self.broker]:
            server.stop(timeout=10.0)
        if not keep_data:
            shutil.rmtree(self.data_dir / "mongo", ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Names of processes still running (should be none after `stop`)."""
        return [server.name for server in self.all() if server.running()]


def start_stack(
    data_dir: Path,
    processes: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ChaosStack:
    """Start broker and database on free ports, prepare topics and tenant, start services.

    `processes` names each service process and its role (default: one of each of
    `SERVICES`); a role's second process gets a free port of its own. `overrides` are
    settings for the whole stack (e.g. more partitions). On failure everything started so
    far is stopped before the error propagates.
    """
    logs = data_dir / "logs"
    broker = broker_server("127.0.0.1", free_port(), logs)
    database = database_server("127.0.0.1", free_port(), data_dir / "mongo", logs)
    settings = settings_for(
        f"127.0.0.1:{broker.port}", f"mongodb://127.0.0.1:{database.port}", _DATABASE, False
    )
    settings = settings.model_copy(update={"data_dir": data_dir, **(overrides or {})})
    roles = processes or {name: name for name in SERVICES}
    taken: set[str] = set()
    services: dict[str, EmbeddedServer] = {}
    for name, role in roles.items():
        own = settings
        if role in taken:  # a second process of a role listens on a port of its own
            own = settings.model_copy(update={_PORT_SETTINGS[role]: free_port()})
        taken.add(role)
        port = getattr(own, _PORT_SETTINGS[role])
        services[name] = service_process(own, name, _MODULES[role], port, logs)
    stack = ChaosStack(settings, data_dir, broker, database, services)
    try:
        broker.start()
        database.start()
        asyncio.run(prepare_stack(settings))
        for server in services.values():
            server.launch()
        for server in services.values():
            server.wait(timeout=90.0)
    except BaseException:
        stack.stop(keep_data=True)
        raise
    return stack

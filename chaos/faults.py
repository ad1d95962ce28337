"""Faults in turn (kill -9 each service, freeze the broker and the database) and supervision.

The supervisor restarts any service that dies without being told to, as `make run` does,
and counts it: a service that exits by itself during the campaign is a finding too. A
service the injector has killed stays down for the fault's length, then the injector
restarts it and waits until it listens again.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chaos.stack import ChaosStack

__all__ = ["FAULTS", "Faults"]

FAULTS = (
    "kill -9 gateway",
    "kill -9 projector",
    "kill -9 retry-worker",
    "kill -9 insights",
    "SIGSTOP broker",
    "SIGSTOP database",
)
_SUPERVISE_INTERVAL = 0.25
_RESTART_TIMEOUT = 90.0


@dataclass
class Faults:
    """Injects faults and supervises the services; holds what happened, for the report."""

    stack: ChaosStack
    fault_seconds: float
    recovery_seconds: float
    started: float = field(default_factory=time.monotonic)
    injected: Counter[str] = field(default_factory=Counter)
    unexpected_exits: Counter[str] = field(default_factory=Counter)
    failed_restarts: Counter[str] = field(default_factory=Counter)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    _held: set[str] = field(default_factory=set)

    async def supervise(self) -> None:
        """Restart services that exited on their own, until cancelled."""
        while True:
            for name, server in self.stack.services.items():
                if name in self._held or server.running():
                    continue
                self.unexpected_exits[name] += 1
                self._note(f"{name} exited by itself ({_code(server)}); restarting")
                while not await self.stack.relaunch(name, _RESTART_TIMEOUT):
                    self.failed_restarts[name] += 1
                    await asyncio.sleep(2.0)
            for server in (self.stack.broker, self.stack.database):
                if not server.running() and server.name not in self.unexpected_exits:
                    self.unexpected_exits[server.name] += 1
                    self._note(f"{server.name} exited ({_code(server)}): the run is void")
            await asyncio.sleep(_SUPERVISE_INTERVAL)

    async def inject(self, until: float) -> None:
        """Inject every fault once, in turn, each followed by recovery; more while one fits."""
        index = 0
        while index < len(FAULTS) or (
            time.monotonic() + self.fault_seconds + self.recovery_seconds <= until
        ):
            fault = FAULTS[index % len(FAULTS)]
            began = time.monotonic()
            await self._one(fault)
            self.injected[fault] += 1
            self.timeline.append(
                {
                    "fault": fault,
                    "at_seconds": round(began - self.started, 1),
                    "back_after_seconds": round(time.monotonic() - began, 1),
                }
            )
            await asyncio.sleep(self.recovery_seconds)
            index += 1

    async def _one(self, fault: str) -> None:
        verb, _, target = fault.partition(" ")
        if verb == "kill":
            name = target.removeprefix("-9 ")
            self._held.add(name)
            try:
                self.stack.services[name].signal(signal.SIGKILL)
                await asyncio.sleep(self.fault_seconds)
                while not await self.stack.relaunch(name, _RESTART_TIMEOUT):
                    self.failed_restarts[name] += 1
                    await asyncio.sleep(2.0)
            finally:
                self._held.discard(name)
            return
        server = self.stack.broker if target == "broker" else self.stack.database
        server.signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(self.fault_seconds)
        finally:
            server.signal(signal.SIGCONT)

    def _note(self, message: str) -> None:
        self.timeline.append(
            {"note": message, "at_seconds": round(time.monotonic() - self.started, 1)}
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        slowest: dict[str, float] = {}
        for entry in self.timeline:
            if "fault" in entry:
                back = entry["back_after_seconds"]
                slowest[entry["fault"]] = max(back, slowest.get(entry["fault"], 0.0))
        return {
            "injected": dict(self.injected),
            "slowest_back_seconds": slowest,
            "total": sum(self.injected.values()),
            "unexpected_exits": dict(self.unexpected_exits),
            "failed_restarts": dict(self.failed_restarts),
            "restarts": dict(self.stack.restarts),
            "timeline": self.timeline,
        }


def _code(server: Any) -> str:
    process = server.process
    return f"exit code {process.returncode}" if process is not None else "never started"

"""CPU cost per event of each service the bench starts, beside the gateway's floor.

On one stack (gateway, projector, retry worker), for 10-, 50- and 500-event requests from
8 closed-loop clients: the gateway's CPU seconds (`/proc`, user + system) per accepted
event, then the same load on its floor (`bench.gateway_floor`: the same server stack, body
parsing and producer, nothing else) on the same broker. The projector and the retry worker
run meanwhile: their CPU over every window per event they handled (the floor's events are
the same bytes on the same topic, so the projector projects those too). The projector's
goal is judged in the projection section, against the raw-limit loop's client CPU.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from bench.common import Sizes, gateway_stack, scrape
from bench.ingest import measure
from bench.process_cpu import cpu_seconds, per_event_ms
from bench.projection import handled
from bench.report import GATEWAY_FLOOR_BATCHES
from shared.adapters.embedded import EmbeddedServer, free_port
from tests.support.services import Stack, service_process

__all__ = ["CLIENTS", "retried", "run"]

CLIENTS = 8
_WARM_UP_SECONDS = 0.3


def retried(server: EmbeddedServer) -> float:
    """Events a retry worker is done with (applied or failed on a retry tier), all tiers."""
    return sum(
        value
        for name, labels, value in scrape(server).get("progress_retry_events", [])
        if name.endswith("_total") and labels.get("outcome") in ("applied", "failed")
    )


def _pid(server: EmbeddedServer) -> int:
    if server.process is None:
        raise RuntimeError(f"{server.name} is not running")
    return server.process.pid


class _Consumers:
    """The projector's and the retry worker's CPU and handled events, over the windows."""

    def __init__(self, stack: Stack) -> None:
        self._servers = {"projector": stack.projector, "retry_worker": stack.retry_worker}
        self._count = {"projector": lambda s: handled([s]), "retry_worker": retried}
        self.cpu = dict.fromkeys(self._servers, 0.0)
        self.events = dict.fromkeys(self._servers, 0.0)
        self._marks: dict[str, tuple[float, float]] = {}

    def start(self) -> None:
        self._marks = {
            name: (cpu_seconds(_pid(s)), self._count[name](s)) for name, s in self._servers.items()
        }

    def stop(self) -> None:
        for name, server in self._servers.items():
            cpu, count = self._marks[name]
            self.cpu[name] += cpu_seconds(_pid(server)) - cpu
            self.events[name] += self._count[name](server) - count

    def figures(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "events": self.events[name],
                "cpu_seconds": self.cpu[name],
                "cpu_ms_per_event": per_event_ms(self.cpu[name], self.events[name]),
            }
            for name in self._servers
        }


def _window(
    server: EmbeddedServer, url: str, batch: int, seconds: float, consumers: _Consumers
) -> dict[str, Any]:
    """The closed-loop load on `url` and the CPU its process spent per accepted event."""
    asyncio.run(measure(url, batch, CLIENTS, _WARM_UP_SECONDS))
    consumers.start()
    before = cpu_seconds(_pid(server))
    load = asyncio.run(measure(url, batch, CLIENTS, seconds))
    cpu = cpu_seconds(_pid(server)) - before
    consumers.stop()
    accepted = batch * (load["requests"] - load["errors"])
    return {
        "events": accepted,
        "errors": load["errors"],
        "events_per_second": load["events_per_second"],
        "cpu_seconds": cpu,
        "cpu_ms_per_event": per_event_ms(cpu, accepted),
    }


def run(sizes: Sizes) -> dict[str, Any]:
    """Gateway and floor per request size, then the consumers over all windows."""
    with gateway_stack("bench_cpu") as stack:
        port = free_port()
        floor = service_process(
            stack.settings.model_copy(update={"gateway_port": port}),
            "gateway-floor",
            "bench.gateway_floor",
            port,
            stack.gateway.log_path.parent,
        )
        floor.start(timeout=60)
        consumers = _Consumers(stack)
        try:
            cells = [
                {
                    "events_per_request": batch,
                    "gateway": _window(
                        stack.gateway, stack.gateway_url, batch, sizes.ingest_seconds, consumers
                    ),
                    "floor": _window(
                        floor, f"http://127.0.0.1:{port}", batch, sizes.ingest_seconds, consumers
                    ),
                }
                for batch in GATEWAY_FLOOR_BATCHES
            ]
        finally:
            floor.stop()
    return {
        "clients": CLIENTS,
        "cells": cells,
        **consumers.figures(),
        "load_average": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }

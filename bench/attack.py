"""The gateway under attack: `/healthz` and native-write latency at rest, then during the
exposure attacks of `chaos.hostile` (each bounded in count, all from loopback).

Probes are open-loop (sent every 20 ms, whatever the previous answer did), so a stalled
event loop shows as latency instead of as fewer samples.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.common import gateway_stack
from bench.ingest import api_client, heartbeat
from chaos.hostile import Probed, attack_all, probe

__all__ = ["run"]

_PROBE_INTERVAL = 0.02
_LONGEST = 180.0


def _figures(probed: Probed) -> dict[str, Any]:
    return {
        "probes": len(probed.latencies),
        "statuses": dict(probed.statuses),
        "p50_ms": probed.quantile_ms(0.50),
        "p99_ms": probed.quantile_ms(0.99),
        "max_ms": probed.quantile_ms(1.0),
    }


async def _window(base: str, seconds: float, attacked: bool) -> dict[str, Any]:
    """Probe `/healthz` and a native 10-event write for at least `seconds`, with or without
    the attacks; with them, until every attack was answered (at most `_LONGEST` s)."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as health,
        api_client(base, 20) as writer,
    ):
        index = 0

        async def healthz() -> int:
            return (await health.get("/healthz")).status_code

        async def write() -> int:
            nonlocal index
            index += 1
            events = [heartbeat(i, float(index * 10 + i)) for i in range(10)]
            at = datetime.now(UTC).strftime("%H%M%S")
            response = await writer.put(
                f"/v1/users/bench-probe-{index % 20}-{at}/progress", json={"events": events}
            )
            return response.status_code

        attacks = asyncio.ensure_future(attack_all(base) if attacked else asyncio.sleep(0, {}))
        started = time.perf_counter()

        def going() -> bool:
            elapsed = time.perf_counter() - started
            return elapsed < seconds or (not attacks.done() and elapsed < _LONGEST)

        health_probed, write_probed = await asyncio.gather(
            probe(healthz, going, _PROBE_INTERVAL), probe(write, going, _PROBE_INTERVAL)
        )
        answers = await attacks
        window = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": window,
        "healthz": _figures(health_probed),
        "native_write": _figures(write_probed),
    }
    if attacked:
        result["attacks"] = answers
    return result


def run(seconds: float) -> dict[str, Any]:
    """`/healthz` and native-write latency at rest, then during the attacks, on one stack."""
    with gateway_stack("bench_attack") as stack:
        rest = asyncio.run(_window(stack.gateway_url, seconds, attacked=False))
        attacked = asyncio.run(_window(stack.gateway_url, seconds, attacked=True))
    return {"rest": rest, "attack": attacked}

"""The exposure phase: every attack of `chaos.hostile` at once while `/healthz` is probed.

A public gateway must answer each hostile request with a 4xx (never a 5xx or a dropped
connection) and keep its event loop free for everyone else: a `/healthz` probe sent every
100 ms during the attacks that takes over a second is a stall, and a failure of the run.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from chaos.hostile import CLOSED, Probed, attack_all, probe

__all__ = ["STALL_SECONDS", "exposure", "failed_answers"]

STALL_SECONDS = 1.0
_INTERVAL = 0.1


def failed_answers(answers: dict[str, dict[str, int]]) -> int:
    """Hostile requests answered 5xx, or not answered at all (a dropped connection).

    A request refused from its headers by closing the connection (`closed`) was answered.
    """
    return sum(
        count
        for counts in answers.values()
        for status, count in counts.items()
        if status != CLOSED and (not status.isdigit() or int(status) >= 500)
    )


def _probe_healthz(base: str, attacking: threading.Event) -> Probed:
    """Probe `/healthz` from a thread and event loop of its own until the attacks end.

    The attacks build and send large bodies; on the attackers' loop the probe would time
    the campaign's own work as well as the gateway's.
    """

    async def probing() -> Probed:
        async with httpx.AsyncClient(base_url=base, timeout=30) as health:

            async def healthz() -> int:
                return (await health.get("/healthz")).status_code

            return await probe(healthz, attacking.is_set, _INTERVAL)

    return asyncio.run(probing())


async def exposure(base: str) -> dict[str, Any]:
    """Run the attacks against the gateway at `base`; their answers and `/healthz`'s latency."""
    attacking = threading.Event()
    attacking.set()
    prober = asyncio.ensure_future(asyncio.to_thread(_probe_healthz, base, attacking))
    try:
        answers = await attack_all(base)
    finally:
        attacking.clear()
    probed = await prober
    return {
        "answers": answers,
        "failed": failed_answers(answers),
        "healthz_probes": len(probed.latencies),
        "healthz_p99_ms": round(probed.quantile_ms(0.99), 1),
        "healthz_longest_ms": round(probed.quantile_ms(1.0), 1),
        "healthz_stalls": probed.over(STALL_SECONDS),
    }

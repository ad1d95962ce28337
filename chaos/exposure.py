"""The exposure phase: every attack of `chaos.hostile` at once while `/healthz` is probed.

A public gateway must answer each hostile request with a 4xx (never a 5xx or a dropped
connection) and keep its event loop free for everyone else: a `/healthz` probe sent every
100 ms during the attacks that takes over a second is a stall, and a failure of the run.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from chaos.hostile import CLOSED, attack_all, probe

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


async def exposure(base: str) -> dict[str, Any]:
    """Run the attacks against the gateway at `base`; their answers and `/healthz`'s latency."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as health:

        async def healthz() -> int:
            return (await health.get("/healthz")).status_code

        attacks = asyncio.ensure_future(attack_all(base))
        probed = await probe(healthz, lambda: not attacks.done(), _INTERVAL)
        answers = await attacks
    return {
        "answers": answers,
        "failed": failed_answers(answers),
        "healthz_probes": len(probed.latencies),
        "healthz_p99_ms": round(probed.quantile_ms(0.99), 1),
        "healthz_longest_ms": round(probed.quantile_ms(1.0), 1),
        "healthz_stalls": probed.over(STALL_SECONDS),
    }

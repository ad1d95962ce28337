"""The gateway under attack: `/healthz` and native-write latency at rest and during a mix of
hostile requests, each sent from loopback, bounded in count and in time.

The mix replays what an attacker tried against a public gateway: a form of 20,000 empty
fields on xAPI's alternate syntax, 16 MiB bodies without credentials, wrong Basic keys,
statements and extensions nested hundreds deep, 2,500 statements in one POST, a state import
deriving thousands of events, and a crowd of `waitFor` reads of one user. Probes run
open-loop (sent on a schedule, whatever the previous answer did), so a stalled event loop
shows as latency instead of as fewer samples.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.common import gateway_stack, percentile
from bench.ingest import api_client, heartbeat
from tests.support.services import TEST_API_KEY

__all__ = ["ATTACKS", "run"]

_PROBE_INTERVAL = 0.02
_LONGEST = 180.0
_XAPI = {"X-Experience-API-Version": "1.0.3"}
_BASIC = "Basic " + base64.b64encode(f"bootstrap:{TEST_API_KEY}".encode()).decode()


def _statement(user: str, **more: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example.com", "name": user}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": f"urn:bench:attack:{uuid.uuid4().hex[:8]}"},
        **more,
    }


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


async def _wide_form(http: httpx.AsyncClient) -> int:
    body = "&".join(["f="] * 20_000)
    response = await http.post(
        "/xapi/statements",
        params={"method": "PUT"},
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return response.status_code


async def _huge_anonymous(http: httpx.AsyncClient) -> int:
    response = await http.post(
        "/xapi/statements",
        content=b" " * (16 * 1024 * 1024),
        headers={**_XAPI, "Content-Type": "application/json"},
    )
    return response.status_code


async def _wrong_key(http: httpx.AsyncClient) -> int:
    wrong = base64.b64encode(f"bootstrap:{uuid.uuid4().hex}".encode()).decode()
    response = await http.get(
        "/xapi/statements", headers={**_XAPI, "Authorization": f"Basic {wrong}"}
    )
    return response.status_code


async def _deep_extension(http: httpx.AsyncClient) -> int:
    statement = _statement("attack-deep", result={"extensions": {"urn:bench:deep": _nested(480)}})
    response = await http.post(
        "/xapi/statements",
        json=statement,
        headers={**_XAPI, "Authorization": _BASIC},
    )
    return response.status_code


async def _many_statements(http: httpx.AsyncClient) -> int:
    statements = [_statement(f"attack-many-{i % 50}") for i in range(2_500)]
    response = await http.post(
        "/xapi/statements", json=statements, headers={**_XAPI, "Authorization": _BASIC}
    )
    return response.status_code


async def _big_import(http: httpx.AsyncClient) -> int:
    items = {f"lesson-{i}": {"status": "completed"} for i in range(2_525)}
    response = await http.post(
        f"/v1/users/attack-import-{uuid.uuid4().hex[:6]}/import",
        json={"state": {"items": items}},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    return response.status_code


async def _waiting_read(http: httpx.AsyncClient) -> int:
    user = "attack-waiter"
    written = await http.put(
        f"/v1/users/{user}/progress",
        json={"events": [heartbeat(1, 1.0)]},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    token = written.json().get("consistencyToken", "") if written.status_code == 202 else ""
    response = await http.get(
        f"/v1/users/{user}/progress",
        params={"waitFor": token, "waitMs": 10_000},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    return response.status_code


Attack = Callable[[httpx.AsyncClient], Awaitable[int]]
ATTACKS: dict[str, tuple[Attack, int, int]] = {
    # name: (request, how many in all, how many at once)
    "form_20000_fields": (_wide_form, 20, 4),
    "anonymous_16_mib": (_huge_anonymous, 12, 6),
    "wrong_basic_key": (_wrong_key, 200, 8),
    "extension_480_deep": (_deep_extension, 20, 4),
    "statements_2500": (_many_statements, 4, 2),
    "import_2525_events": (_big_import, 4, 2),
    "wait_for_crowd": (_waiting_read, 24, 12),
}


async def _attack(base: str, attack: Attack, total: int, parallel: int) -> Counter[str]:
    """Send `total` requests of one kind, `parallel` at a time; count the answers."""
    answers: Counter[str] = Counter()
    queue = iter(range(total))
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def worker() -> None:
            for _ in queue:
                try:
                    answers[str(await attack(http))] += 1
                except httpx.HTTPError as error:
                    answers[type(error).__name__] += 1

        await asyncio.gather(*(worker() for _ in range(parallel)))
    return answers


async def _probe(send: Callable[[], Awaitable[int]], going: Callable[[], bool]) -> dict[str, Any]:
    """Open loop: one probe every `_PROBE_INTERVAL` s while `going()`, each timed on its own."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()

    async def one() -> None:
        sent = time.perf_counter()
        try:
            statuses[str(await send())] += 1
        except httpx.HTTPError as error:
            statuses[type(error).__name__] += 1
        latencies.append(time.perf_counter() - sent)

    pending: list[asyncio.Task[None]] = []
    while going():
        pending.append(asyncio.create_task(one()))
        await asyncio.sleep(_PROBE_INTERVAL)
    await asyncio.gather(*pending)
    return {
        "probes": len(latencies),
        "statuses": dict(statuses),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
    }


async def _window(base: str, seconds: float, attacked: bool) -> dict[str, Any]:
    """Probe `/healthz` and a native 10-event write for at least `seconds`, with or without
    the mix; with it, until every attack was answered (at most `_LONGEST` s)."""
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

        attacks = asyncio.gather(
            *(
                _attack(base, attack, total, parallel)
                for attack, total, parallel in (ATTACKS.values() if attacked else ())
            )
        )
        started = time.perf_counter()

        def going() -> bool:
            elapsed = time.perf_counter() - started
            return elapsed < seconds or (not attacks.done() and elapsed < _LONGEST)

        health_figures, write_figures = await asyncio.gather(
            _probe(healthz, going), _probe(write, going)
        )
        answers = await attacks
        window = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": window,
        "healthz": health_figures,
        "native_write": write_figures,
    }
    if attacked:
        result["attacks"] = {
            name: dict(counts) for name, counts in zip(ATTACKS, answers, strict=True)
        }
    return result


def run(seconds: float) -> dict[str, Any]:
    """`/healthz` and native-write latency at rest, then during the attack mix, on one stack."""
    with gateway_stack("bench_attack") as stack:
        rest = asyncio.run(_window(stack.gateway_url, seconds, attacked=False))
        attacked = asyncio.run(_window(stack.gateway_url, seconds, attacked=True))
    return {"rest": rest, "attack": attacked}

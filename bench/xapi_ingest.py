"""xAPI ingest: statements/s and p50/p99 latency of `POST /xapi/statements`.

Measured like native ingest (`bench/ingest.py`): closed loop, `CLIENTS` concurrent clients,
the whole stack running. Each statement is stored, validated and turned into one native
event that goes through the same Ingest path, so the gap to native events/s is the cost of
the LRS: validation, the statement store and its indexes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.common import Sizes, gateway_stack, percentile
from tests.support.services import TEST_API_KEY

__all__ = ["BATCHES", "CLIENTS", "measure", "run", "statement"]

BATCHES = (1, 50)
CLIENTS = 8
_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def statement(user: str, content: int, progress: int) -> dict[str, Any]:
    """A cmi5 `progressed` statement by `user` about one of a few lessons, occurring now."""
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example.com", "name": user}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
        "object": {"id": f"urn:bench:lesson-{content}"},
        "result": {"extensions": {_PROGRESS: progress % 100}},
        "context": {"contextActivities": {"parent": [{"id": "urn:bench:course"}]}},
        "timestamp": datetime.now(UTC).isoformat(),
    }


async def _client(
    http: httpx.AsyncClient,
    client_id: int,
    batch: int,
    until: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    index = 0
    while index == 0 or time.perf_counter() < until:
        body = [statement(f"xbench-{client_id}", i % 20, index * batch + i) for i in range(batch)]
        started = time.perf_counter()
        response = await http.post("/xapi/statements", json=body)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(response.status_code)
        index += 1


async def measure(base: str, batch: int, clients: int, seconds: float) -> dict[str, Any]:
    """Drive `clients` clients POSTing `batch` statements each time for `seconds`."""
    latencies: list[float] = []
    errors: list[int] = []
    async with httpx.AsyncClient(
        base_url=base,
        auth=("bootstrap", TEST_API_KEY),
        headers={"X-Experience-API-Version": "1.0.3"},
        timeout=30,
        limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
    ) as http:
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(_client(http, c, batch, until, latencies, errors) for c in range(clients))
        )
        elapsed = time.perf_counter() - started
    return {
        "statements_per_request": batch,
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "seconds": elapsed,
        "statements_per_second": batch * (len(latencies) - len(errors)) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def run(sizes: Sizes) -> list[dict[str, Any]]:
    """Each batch size on one stack, after a short warm-up."""
    cells: list[dict[str, Any]] = []
    with gateway_stack("bench_xapi") as stack:
        for batch in BATCHES:
            asyncio.run(measure(stack.gateway_url, batch, CLIENTS, 0.3))
            cells.append(
                asyncio.run(measure(stack.gateway_url, batch, CLIENTS, sizes.ingest_seconds))
            )
    return cells

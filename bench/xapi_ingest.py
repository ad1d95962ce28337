"""xAPI ingest: statements/s and p50/p99 latency of `POST /xapi/statements`.

Measured like native ingest (`bench/ingest.py`): closed loop, `CLIENTS` concurrent clients,
the whole stack running. Each statement is stored, validated and turned into one native
event that goes through the same Ingest path, so the gap to native events/s is the cost of
the LRS: validation, the statement store and its indexes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.closed_loop import closed_loop
from bench.common import Sizes, gateway_stack
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


async def measure(base: str, batch: int, clients: int, seconds: float) -> dict[str, Any]:
    """Drive `clients` clients POSTing `batch` statements each time for `seconds`."""
    async with httpx.AsyncClient(
        base_url=base,
        auth=("bootstrap", TEST_API_KEY),
        headers={"X-Experience-API-Version": "1.0.3"},
        timeout=30,
        limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
    ) as http:

        async def send(client_id: int, index: int) -> int:
            body = [
                statement(f"xbench-{client_id}", i % 20, index * batch + i) for i in range(batch)
            ]
            response = await http.post("/xapi/statements", json=body)
            return response.status_code

        return await closed_loop(
            send, clients, seconds, per_request=batch, unit="statements", accepted=200
        )


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

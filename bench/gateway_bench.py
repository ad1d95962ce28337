"""Gateway ingest: events/s and p50/p99 latency of PUT at 1 and 50 events per request.

Starts its own embedded broker, database, gateway and projector on free ports, then drives
the gateway with concurrent clients. Run: `.venv/bin/python -m bench.gateway_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from services.progressctl.provisioning import prepare_stack
from tests.support.backends import embedded_backend
from tests.support.services import TEST_API_KEY, running_stack, settings_for


def _event(user: int, index: int) -> dict[str, Any]:
    return {
        "eventId": uuid.uuid4().hex,
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": f"bench-{user}",
        "type": "media.progressed",
        "payload": {
            "contentId": f"video-{index % 20}",
            "positionSeconds": index,
            "watchedSeconds": 5,
        },
    }


async def _client(
    base: str, client_id: int, batch: int, requests: int, latencies: list[float]
) -> None:
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {TEST_API_KEY}"}, timeout=30
    ) as http:
        for index in range(requests):
            body = {"events": [_event(client_id, index * batch + i) for i in range(batch)]}
            started = time.perf_counter()
            response = await http.put(f"/v1/users/bench-{client_id}/progress", json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 202:
                raise RuntimeError(f"{response.status_code}: {response.text}")


async def measure(base: str, batch: int, clients: int, requests: int) -> dict[str, float]:
    """Drive `clients` concurrent clients sending `requests` PUTs of `batch` events each."""
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(base, c, batch, requests, latencies) for c in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "events_per_request": batch,
        "clients": clients,
        "requests": len(ordered),
        "events_per_second": batch * len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def main() -> None:
    """Print one line per (events per request, clients) combination."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[8])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--requests", type=int, default=200, help="requests per client")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, embedded_backend(Path(tmp)) as backend:
        settings = settings_for(
            backend.kafka_bootstrap, backend.mongo_url, "bench", False
        ).model_copy(update={"rate_limit_events_per_second": 1e9, "rate_limit_burst": 10**9})
        asyncio.run(prepare_stack(settings))
        with running_stack(settings, Path(tmp) / "logs") as stack:
            for batch in args.batches:
                for clients in args.clients:
                    asyncio.run(measure(stack.gateway_url, batch, clients, 10))
                    result = asyncio.run(measure(stack.gateway_url, batch, clients, args.requests))
                    print(
                        f"PUT {batch:>3} events/request, {clients:>2} clients: "
                        f"{result['events_per_second']:8.0f} events/s  "
                        f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                        f"({result['requests']} requests)"
                    )


if __name__ == "__main__":
    main()

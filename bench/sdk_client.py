"""The Python SDK's own numbers: events/s through `track()` + flush to a private gateway at
batch sizes 1, 50 and 500, and the outbox's SQLite commits/s with and without batching.

`make bench` runs `run()` (section `sdk_client`): track()+flush at each batch size beside the
raw HTTP figure, the same events PUT by plain httpx one request after the other, as the
flusher sends them. Run alone: `.venv/bin/python -m bench.sdk_client` (starts its own broker,
database and services; needs the SDK installed in the venv). Prints a table and writes
bench/results/sdk-<timestamp>.json.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from progress_sync_client import AsyncProgressClient, EventBuilder, Outbox

from bench.common import gateway_stack
from services.progressctl.provisioning import prepare_stack
from tests.support.backends import embedded_backend
from tests.support.services import TEST_API_KEY, running_stack, settings_for

RESULTS = Path(__file__).parent / "results"
RUNS = ((1, 1000, 1), (50, 5000, 1), (500, 10000, 1), (500, 20000, 500))
"""(batch size, events sent, events per `track()` call) of each run."""


def outbox_commits(tmp: Path, synchronous: Literal["FULL", "NORMAL"]) -> dict[str, float]:
    """Commits/s and events/s of the outbox: one event per commit, and 500 per commit."""
    builder = EventBuilder("bench")
    body = builder.content_rated("item", "easy").model_dump_json(by_alias=True)
    results: dict[str, float] = {}
    for label, per_commit, commits in (("single", 1, 2000), ("batched_500", 500, 40)):
        outbox = Outbox(tmp / f"commits-{synchronous}-{label}.sqlite3", synchronous=synchronous)
        started = time.perf_counter()
        for commit in range(commits):
            outbox.add("u", [(f"{commit}-{i}", body) for i in range(per_commit)])
        elapsed = time.perf_counter() - started
        outbox.close()
        results[f"{label}_commits_per_second"] = commits / elapsed
        results[f"{label}_events_per_second"] = commits * per_commit / elapsed
    return results


async def throughput(
    url: str, tmp: Path, batch: int, count: int, per_call: int
) -> dict[str, float]:
    """Track `count` events (`per_call` per call), then flush; time until the server answered."""
    user = f"bench-{uuid.uuid4().hex[:8]}"
    client = AsyncProgressClient(
        url,
        api_key=TEST_API_KEY,
        outbox=tmp / f"throughput-{batch}-{per_call}.sqlite3",
        max_batch_events=batch,
        timeout=30,
    )
    await client.start()
    events = [client.events.content_rated(f"item-{i % 50}", "easy") for i in range(count)]
    started = time.perf_counter()
    for start in range(0, count, per_call):
        await client.track(user, *events[start : start + per_call])
    tracked = time.perf_counter() - started
    report = await client.flush(timeout=600)
    elapsed = time.perf_counter() - started
    await client.close()
    assert report.drained, report
    return {
        "events": count,
        "batch": batch,
        "per_track_call": per_call,
        "track_events_per_second": count / tracked,
        "end_to_end_events_per_second": count / elapsed,
        "seconds": elapsed,
    }


BENCH_BATCHES = ((1, 300), (50, 3000), (500, 10000))
"""(batch size, events) of each `make bench` figure: a few seconds each."""


def raw_http(url: str, batch: int, count: int) -> dict[str, float]:
    """The yardstick: `count` events PUT in `batch`-event requests, one after the other."""
    builder = EventBuilder("bench-raw")
    user = f"bench-raw-{uuid.uuid4().hex[:8]}"
    bodies = [
        builder.content_rated(f"item-{i % 50}", "easy").model_dump(mode="json", by_alias=True)
        for i in range(count)
    ]
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        started = time.perf_counter()
        for start in range(0, count, batch):
            answer = http.put(
                f"/v1/users/{user}/progress", json={"events": bodies[start : start + batch]}
            )
            answer.raise_for_status()
        elapsed = time.perf_counter() - started
    return {"events": count, "batch": batch, "events_per_second": count / elapsed}


def run() -> list[dict[str, Any]]:
    """One `make bench` run: per batch size, the SDK's track()+flush and raw HTTP events/s."""
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as name, gateway_stack("sdk_bench") as stack:
        for batch, count in BENCH_BATCHES:
            sdk = asyncio.run(throughput(stack.gateway_url, Path(name), batch, count, 1))
            raw = raw_http(stack.gateway_url, batch, count)
            figures.append(
                {
                    "batch": batch,
                    "events": count,
                    "sdk_events_per_second": sdk["end_to_end_events_per_second"],
                    "raw_http_events_per_second": raw["events_per_second"],
                }
            )
    return figures


def main() -> None:
    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat()}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        results["outbox"] = {mode: outbox_commits(tmp, mode) for mode in ("FULL", "NORMAL")}
        with embedded_backend(tmp / "backend") as backend:
            settings = settings_for(
                backend.kafka_bootstrap, backend.mongo_url, "sdk_bench", False
            ).model_copy(
                update={"rate_limit_events_per_second": 1e6, "rate_limit_burst": 1_000_000}
            )
            asyncio.run(prepare_stack(settings))
            with running_stack(settings, tmp / "logs") as stack:
                results["throughput"] = [
                    asyncio.run(throughput(stack.gateway_url, tmp, *run)) for run in RUNS
                ]
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"sdk-{stamp}.json").write_text(json.dumps(results, indent=2))
    for mode, numbers in results["outbox"].items():
        print(
            f"outbox synchronous={mode}: {numbers['single_commits_per_second']:.0f} commits/s "
            f"(1 event each); {numbers['batched_500_commits_per_second']:.0f} commits/s = "
            f"{numbers['batched_500_events_per_second']:.0f} events/s (500 per commit)"
        )
    for numbers in results["throughput"]:
        print(
            f"batch {numbers['batch']:>3}, {numbers['per_track_call']:>3} per track(): "
            f"{numbers['end_to_end_events_per_second']:.0f} events/s track()+flush "
            f"({numbers['events']} events; track alone {numbers['track_events_per_second']:.0f}/s)"
        )


if __name__ == "__main__":
    main()

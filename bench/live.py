"""Live sync: a write on device A seen on device B's stream, beside a device polling `since`.

On one private stack (one gateway process), 1,000 streams are opened first, each for a
user of its own. Idle (keep-alives and the gateway's sweep only): the gateway's RSS per
open stream (RSS with them minus RSS before, over 1,000) and its CPU share. Then, under
the freshness section's load in 50-event requests, 1,500 events/s unless `--live-rate`
says (its own freshness probes give the run's freshness p99), a probe writes one event
every `_PROBE_SECONDS` for one of `_PROBE_USERS` users whose streams are read and
timestamped; a poller per probe user asks `GET …/progress?since=` every second. Latency:
the write's `202` to the event seen (on the stream, by the poller). DESIGN: live p99 at
most the same run's freshness p99 + 100 ms, and under 500 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import gateway_stack, percentile
from bench.freshness import at_rate, drive, mixed_event, warm_up
from bench.ingest import api_client
from tests.support.services import TEST_API_KEY, Stack

__all__ = ["run"]

_STREAMS = 1_000
_PROBE_USERS = 10
_PROBE_SECONDS = 0.1
_POLL_SECONDS = 1.0
_IDLE_SECONDS = 15.0
"""One keep-alive interval: every stream writes one comment and re-reads three times."""
_TICKS = os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(row for row in status if row.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class _Stream:
    """One open stream over a raw connection: what it saw, when."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    seen: dict[str, float] = field(default_factory=dict)
    comments: int = 0

    async def follow(self) -> None:
        while line := await self.reader.readline():
            if line.startswith(b"data: "):
                now = time.perf_counter()
                for event in json.loads(line[6:])["events"]:
                    self.seen.setdefault(event["eventId"], now)
            elif line.startswith(b":"):
                self.comments += 1


async def _open(host: str, port: int, user: str) -> _Stream:
    reader, writer = await asyncio.open_connection(host, port, limit=2**24)
    writer.write(
        f"GET /v1/users/{user}/progress/stream HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {TEST_API_KEY}\r\n\r\n".encode()
    )
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream of {user}: {status!r}")
    while (await reader.readline()).strip():
        pass
    return _Stream(reader, writer)


async def _poll(
    http: httpx.AsyncClient, user: str, seen: dict[str, float], failures: Counter[str]
) -> None:
    cursor = "0"
    while True:
        try:
            answer = await http.get(f"/v1/users/{user}/progress", params={"since": cursor})
            page = answer.raise_for_status().json()
        except httpx.HTTPError as error:
            failures[f"poll {type(error).__name__}"] += 1
        else:
            now = time.perf_counter()
            for event in page["events"]:
                seen.setdefault(event["eventId"], now)
            cursor = page["cursor"]
        await asyncio.sleep(_POLL_SECONDS)


async def _background(stack: Stack, rate: float, seconds: float) -> dict[str, Any]:
    """The freshness section's load and probes; NaN figures if its probes never settle."""
    try:
        return await drive(stack, at_rate(rate, 50, seconds))
    except TimeoutError:
        nan = float("nan")
        return {"freshness_p99_ms": nan, "sent_events_per_second": nan, "failures": {}}


async def _measure(stack: Stack, seconds: float, rate: float) -> dict[str, Any]:
    pid = stack.gateway.process.pid  # type: ignore[union-attr]
    host, port = "127.0.0.1", stack.settings.gateway_port
    tag = uuid.uuid4().hex[:6]
    rss_before = _rss_bytes(pid)
    opening = time.perf_counter()
    streams: list[_Stream] = []
    for first in range(0, _STREAMS, 50):
        streams += await asyncio.gather(
            *(_open(host, port, f"live-{tag}-{n}") for n in range(first, first + 50))
        )
    opened_in = time.perf_counter() - opening
    following = [asyncio.create_task(stream.follow()) for stream in streams]
    await asyncio.sleep(1.0)
    rss_open = _rss_bytes(pid)
    cpu_before, wall_before = _cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(_IDLE_SECONDS)
    idle_cpu = (_cpu_seconds(pid) - cpu_before) / (time.perf_counter() - wall_before)
    comments = sum(stream.comments for stream in streams)

    probes = [f"live-{tag}-{n}" for n in range(_PROBE_USERS)]
    polled: dict[str, float] = {}
    acked: dict[str, float] = {}
    failures: Counter[str] = Counter()
    async with api_client(stack.gateway_url, 20) as http:
        pollers = [asyncio.create_task(_poll(http, user, polled, failures)) for user in probes]

        async def write(user: str, event: dict[str, Any]) -> None:
            try:
                answer = await http.put(f"/v1/users/{user}/progress", json={"events": [event]})
            except httpx.HTTPError as error:
                failures[f"probe {type(error).__name__}"] += 1
                return
            if answer.status_code == 202:
                acked[event["eventId"]] = time.perf_counter()
            else:
                failures[f"probe {answer.status_code}"] += 1

        async def probe() -> None:
            rng = random.Random(11)
            writes = []
            for index in range(int(seconds / _PROBE_SECONDS)):
                event = mixed_event(rng, 0)
                writes.append(asyncio.create_task(write(probes[index % _PROBE_USERS], event)))
                await asyncio.sleep(_PROBE_SECONDS)
            await asyncio.gather(*writes)
            await asyncio.sleep(3.0)  # the last probes arrive, by stream and by poll

        background, _ = await asyncio.gather(_background(stack, rate, seconds), probe())
        for task in pollers:
            task.cancel()
    for task in following:
        task.cancel()
    for stream in streams:
        stream.writer.close()
    seen = {eid: when for stream in streams[:_PROBE_USERS] for eid, when in stream.seen.items()}
    live = [seen[eid] - at for eid, at in acked.items() if eid in seen]
    polling = [polled[eid] - at for eid, at in acked.items() if eid in polled]
    freshness_p99 = background["freshness_p99_ms"]
    live_p99 = percentile(live, 0.99) * 1000
    return {
        "streams": _STREAMS,
        "streams_opened_in_seconds": opened_in,
        "rss_per_stream_bytes": (rss_open - rss_before) / _STREAMS,
        "gateway_rss_before_mib": rss_before / 2**20,
        "gateway_rss_with_streams_mib": rss_open / 2**20,
        "idle_seconds": _IDLE_SECONDS,
        "idle_cpu_share": idle_cpu,
        "idle_keep_alives": comments,
        "background_events_per_second": background["sent_events_per_second"],
        "background_failures": background["failures"],
        "freshness_p99_ms": freshness_p99,
        "probes_acknowledged": len(acked),
        "probe_failures": dict(failures),
        "live_seen": len(live),
        "live_p50_ms": percentile(live, 0.5) * 1000,
        "live_p99_ms": live_p99,
        "poll_seen": len(polling),
        "poll_p50_ms": percentile(polling, 0.5) * 1000,
        "poll_p99_ms": percentile(polling, 0.99) * 1000,
        "live_goal_ms": min(freshness_p99 + 100.0, 500.0),
    }


def run(seconds: float, rate: float = 1_500.0) -> dict[str, Any]:
    """The live section on a fresh stack, under `rate` events/s (see the module docstring)."""
    with gateway_stack("bench_live", http_max_connections=4_000) as stack:
        warm_up(stack)
        return {
            "background_target_events_per_second": rate,
            **asyncio.run(_measure(stack, seconds, rate)),
        }

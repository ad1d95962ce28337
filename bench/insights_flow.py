"""The insights consumer under load: insight lag at a steady rate, and keeping up flat out.

One private stack (gateway, projector, retry worker) plus an insights consumer, with a
catalog course over the load's items (`item-0` to `item-19`, the freshness section's mixed
events), so every change the projector announces is work for the insights consumer.

- **Lag** at a steady 1,500 events/s (the freshness section's load, 50 per request): a
  probe learner at a time writes one step of a probe course, and the course's insights are
  read every 10 ms until they count it. Lag = the write's `202` → the read showing it, so it
  includes the projection; beside it, the consumer's own histogram
  (`progress_insights_lag_seconds`, announcement → sums committed, bucket resolution).
- **Keeping up**: the load is sent faster than the projector can project (`flat_rate`, in
  10-event requests over 1,000 learners, so that most events change a learner of their own);
  each half second, until the projector's announcements stop growing, the backlog of the
  insights consumer (announcements the projector and retry worker sent minus those it
  handled) is sampled. It keeps up when that backlog stays bounded while the projector runs
  flat out and is gone within a few seconds of the projector's last announcement.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import gateway_stack, histogram, histogram_quantile, percentile, scrape
from bench.freshness import at_rate, drive, warm_up
from shared.adapters.embedded import EmbeddedServer, free_port
from tests.support.services import TEST_API_KEY, Stack, service_process

__all__ = ["drain_seconds", "run"]

_PROBE_COURSE = "probe-course"
_POLL_SECONDS = 0.01
_PROBE_TIMEOUT_SECONDS = 30.0
_SAMPLE_SECONDS = 0.5
_DRAIN_TIMEOUT_SECONDS = 180.0
_QUIET_SECONDS = 3.0
_LAG = "progress_insights_lag_seconds"


@contextmanager
def _consumer(stack: Stack, logs: Path) -> Iterator[EmbeddedServer]:
    own = stack.settings.model_copy(update={"insights_port": free_port()})
    server = service_process(own, "insights", "services.insights", own.insights_port, logs)
    server.start(timeout=90)
    try:
        yield server
    finally:
        server.stop()


def _catalog(api: httpx.Client) -> None:
    load = {"items": [{"contentId": f"item-{n}", "kind": "lesson"} for n in range(20)]}
    probe = {"items": [{"contentId": f"{_PROBE_COURSE}.step", "kind": "lesson"}]}
    for course, definition in (("bench-load-course", load), (_PROBE_COURSE, probe)):
        api.put(f"/v1/catalog/courses/{course}", json=definition).raise_for_status()


async def _probes(base: str, seconds: float) -> list[float]:
    """One probe learner at a time: write, then read the insights until they count it."""
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    lags: list[float] = []
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        path = f"/v1/courses/{_PROBE_COURSE}/insights"
        counted = (await http.get(path)).json()["learners"]["started"]
        ends = time.perf_counter() + seconds
        while time.perf_counter() < ends:
            event = {
                "eventId": uuid.uuid4().hex,
                "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "clientId": "bench",
                "type": "content.progressed",
                "payload": {"contentId": f"{_PROBE_COURSE}.step", "status": "in_progress"},
            }
            user = f"insight-probe-{tag}-{len(lags)}"
            answer = await http.put(f"/v1/users/{user}/progress", json={"events": [event]})
            acked = time.perf_counter()
            if answer.status_code != 202:
                continue
            counted += 1
            while (await http.get(path)).json()["learners"]["started"] < counted:
                if time.perf_counter() - acked > _PROBE_TIMEOUT_SECONDS:
                    return lags
                await asyncio.sleep(_POLL_SECONDS)
            lags.append(time.perf_counter() - acked)
    return lags


async def _load(stack: Stack, rate: float, per_request: int, seconds: float) -> dict[str, Any]:
    """The freshness section's load; NaN freshness if its probes never settle (overload)."""
    try:
        return await drive(stack, at_rate(rate, per_request, seconds))
    except TimeoutError:
        nan = math.nan
        return {"freshness_p99_ms": nan, "sent_events_per_second": nan, "failures": {}}


def _lag(stack: Stack, consumer: EmbeddedServer, seconds: float, rate: float) -> dict[str, Any]:
    async def both() -> tuple[dict[str, Any], list[float]]:
        load, lags = await asyncio.gather(
            _load(stack, rate, 50, seconds), _probes(stack.gateway_url, seconds)
        )
        return load, lags

    before = histogram(consumer, _LAG)
    load, lags = asyncio.run(both())
    after = histogram(consumer, _LAG)
    return {
        "target_events_per_second": rate,
        "sent_events_per_second": load["sent_events_per_second"],
        "freshness_p99_ms": load["freshness_p99_ms"],
        "probes": len(lags),
        "lag_p50_ms": percentile(lags, 0.5) * 1000,
        "lag_p99_ms": percentile(lags, 0.99) * 1000,
        "consumer_lag_p99_bound_ms": histogram_quantile(after, before, 0.99) * 1000,
    }


def _total(server: EmbeddedServer, family: str, **labels: str) -> float:
    return sum(
        value
        for name, found, value in scrape(server).get(family, [])
        if name.endswith("_total") and all(found.get(k) == v for k, v in labels.items())
    )


def _announced(stack: Stack) -> float:
    """Announcements the projector and the retry worker sent so far."""
    return sum(
        _total(server, "progress_changes_announced")
        for server in (stack.projector, stack.retry_worker)
    )


def _handled(consumer: EmbeddedServer) -> float:
    return _total(consumer, "progress_insights_changes", outcome="handled")


def _keep_up(
    stack: Stack, consumer: EmbeddedServer, seconds: float, flat_rate: float
) -> dict[str, Any]:
    """Backlog while the projector works through a load it cannot keep up with, then after.

    The projector is done when its announcements stop growing for `_QUIET_SECONDS`; the
    drain time is from its last announcement to the insights consumer having handled every
    one (0 when it was never behind by a sample; infinite when the backlog was still there
    `_DRAIN_TIMEOUT_SECONDS` after the load).
    """
    announced_before, handled_before = _announced(stack), _handled(consumer)
    samples: list[float] = []

    def backlog() -> tuple[float, float]:
        announced = _announced(stack) - announced_before
        return announced, announced - (_handled(consumer) - handled_before)

    async def load() -> dict[str, Any]:
        sending = asyncio.create_task(_load(stack, flat_rate, 10, seconds))
        while not sending.done():
            samples.append((await asyncio.to_thread(backlog))[1])
            await asyncio.sleep(_SAMPLE_SECONDS)
        return await sending

    sent = asyncio.run(load())
    last_count, last_growth, drained_at = -1.0, time.perf_counter(), math.nan
    deadline = time.perf_counter() + _DRAIN_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        announced, behind = backlog()
        now = time.perf_counter()
        samples.append(behind)
        if announced != last_count:
            last_count, last_growth, drained_at = announced, now, math.nan
        if behind <= 0 and math.isnan(drained_at):
            drained_at = now
        if now - last_growth >= _QUIET_SECONDS and not math.isnan(drained_at):
            break
        time.sleep(_SAMPLE_SECONDS)
    return {
        "target_events_per_second": flat_rate,
        "sent_events_per_second": sent["sent_events_per_second"],
        "freshness_p99_ms": sent["freshness_p99_ms"],
        "announced_changes": last_count,
        "backlog_max": max(samples, default=math.nan),
        "seconds_to_drain_after_projector": drain_seconds(drained_at, last_growth),
    }


def drain_seconds(drained_at: float, last_growth: float) -> float:
    """From the projector's last announcement to the backlog gone (NaN `drained_at`: never).

    Never is infinite, a miss: `max(0.0, nan)` is 0.0, which read as a perfect drain.
    """
    return math.inf if math.isnan(drained_at) else max(0.0, drained_at - last_growth)


def run(seconds: float, rate: float = 1_500.0, flat_rate: float = 4_000.0) -> dict[str, Any]:
    """Both measurements on one fresh stack (see the module docstring)."""
    with gateway_stack("bench_insights_flow") as stack, tempfile.TemporaryDirectory() as logs:
        headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
        with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as api:
            _catalog(api)
        with _consumer(stack, Path(logs)) as consumer:
            warm_up(stack)
            return {
                "lag": _lag(stack, consumer, seconds, rate),
                "keep_up": _keep_up(stack, consumer, seconds, flat_rate),
            }


if __name__ == "__main__":
    import json
    import sys

    # python -m bench.insights_flow [seconds [rate [flat_rate]]]: a quick run at chosen sizes.
    numbers = [float(arg) for arg in sys.argv[1:4]]
    print(json.dumps(run(*numbers) if numbers else run(20.0), indent=2))

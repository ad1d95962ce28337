"""Open-loop load with latency from the scheduled send time (no coordinated omission).

Request `i` is due at `start + i / rate`, whatever became of the earlier ones: a slow answer
does not hold the next request back, as it does in a closed loop, where a stalled server
sees fewer requests and the stall hides in a handful of samples. Each latency runs from the
request's due time, not from when it left: if the generator itself falls behind (its event
loop busy, all its connections taken), that delay is the server's queue as a client on the
schedule would see it, and it is counted.

At most `in_flight` requests are outstanding; the others wait their turn in order, their
clocks running. (Handing thousands of requests to httpx at once instead made its connection
pool the bottleneck: it rescans every waiting request on each change, and the generator's
own CPU, not the gateway, set the latency.) Requests still unanswered `grace` seconds after
the last one was due are cancelled and counted as `unanswered`, so an overloaded server
bounds the run instead of stretching it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import percentile

__all__ = ["Send", "open_loop", "summary"]

Send = Callable[[int], Awaitable[int]]
"""Sends request number `index`; returns the HTTP status answered."""


def summary(
    answers: list[tuple[float, str]], accepted: int, seconds: float, slip: float
) -> dict[str, Any]:
    """Latency percentiles in ms over the answers `accepted`, the other outcomes counted.

    `answers` are (seconds from the due time, outcome: the HTTP status, or the name of the
    exception the request raised).
    """
    good = [latency for latency, outcome in answers if outcome == str(accepted)]
    errors: dict[str, int] = {}
    for _, outcome in answers:
        if outcome != str(accepted):
            errors[outcome] = errors.get(outcome, 0) + 1
    return {
        "requests": len(answers),
        "accepted": len(good),
        "errors": errors,
        "seconds": seconds,
        "requests_per_second": len(good) / seconds if seconds else 0.0,
        "p50_ms": percentile(good, 0.50) * 1000,
        "p99_ms": percentile(good, 0.99) * 1000,
        "max_ms": max(good, default=float("nan")) * 1000,
        "max_send_slip_ms": slip * 1000,
    }


async def open_loop(
    send: Send,
    rate: float,
    seconds: float,
    *,
    accepted: int = 202,
    in_flight: int = 256,
    grace: float = 30.0,
) -> dict[str, Any]:
    """Send `rate` requests/s for `seconds` on a fixed schedule; latency from the due times.

    A request that raises counts as an error named by its exception's type. The figures are
    `summary`'s, the rate over the time until the last answer (a server that falls behind
    delivers less than `rate`); `max_send_slip_ms` is how late the latest request left (the
    generator's own lag and its wait for a free slot among `in_flight`, already inside the
    latencies).
    """
    answers: list[tuple[float, str]] = []
    slip = 0.0
    slots = asyncio.Semaphore(in_flight)
    started = time.perf_counter()

    async def timed(due: float, index: int) -> None:
        nonlocal slip
        async with slots:
            slip = max(slip, time.perf_counter() - due)
            try:
                outcome = str(await send(index))
            except Exception as error:  # a failed request is a figure, not the end of the run
                outcome = type(error).__name__
        answers.append((time.perf_counter() - due, outcome))

    tasks: set[asyncio.Task[None]] = set()
    for index in range(int(rate * seconds)):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(timed(due, index))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _, late = await asyncio.wait(set(tasks), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        answers.extend((math.inf, "unanswered") for _ in late)
    return summary(answers, accepted, time.perf_counter() - started, slip)

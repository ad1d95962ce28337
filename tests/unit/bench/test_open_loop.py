"""The open-loop generator: a fixed schedule, latency from the due time, failures counted."""

from __future__ import annotations

import asyncio
import time

from bench.open_loop import open_loop, summary
from bench.report import goals


async def test_requests_leave_on_schedule_whatever_the_answers() -> None:
    sent: list[float] = []
    started = time.perf_counter()

    async def slow(index: int) -> int:
        sent.append(time.perf_counter() - started)
        await asyncio.sleep(0.2)  # each answer takes longer than the gap between requests
        return 202

    figures = await open_loop(slow, rate=100, seconds=0.3)

    assert figures["requests"] == figures["accepted"] == 30
    assert sent[-1] < 1.0  # not 30 x 0.2 s, as a closed loop of one client would take
    assert 190 <= figures["p50_ms"] < 1000


async def test_a_stall_of_the_generator_counts_in_the_latencies_it_delayed() -> None:
    async def stalling(index: int) -> int:
        if index == 0:
            time.sleep(0.3)  # noqa: ASYNC251 - blocks the loop on purpose: the next leave late
        return 202

    figures = await open_loop(stalling, rate=200, seconds=0.2)

    # Every request was due within the stall and left after it: from its due time each took
    # 100-300 ms, though measured from when it left each took well under a millisecond.
    assert figures["max_send_slip_ms"] >= 250
    assert figures["p50_ms"] >= 100


async def test_failures_are_counted_by_status_or_exception_and_left_out_of_the_latencies() -> None:
    async def flaky(index: int) -> int:
        if index % 3 == 1:
            return 503
        if index % 3 == 2:
            raise ConnectionResetError
        return 202

    figures = await open_loop(flaky, rate=300, seconds=0.1)

    assert figures["accepted"] == 10
    assert figures["errors"] == {"503": 10, "ConnectionResetError": 10}


def test_summary_percentiles_cover_the_accepted_answers_only() -> None:
    answers = [(0.001 * n, "202") for n in range(1, 101)] + [(9.0, "503")]

    figures = summary(answers, 202, seconds=1.0, slip=0.0)

    assert figures["p50_ms"] == 50.0
    assert figures["max_ms"] == 100.0
    assert figures["requests_per_second"] == 100.0


def tail(rate: int, p99: float, sent: float, errors: dict[str, int]) -> dict[str, object]:
    return {
        "target_events_per_second": rate,
        "sent_events_per_second": sent,
        "p99_ms": p99,
        "errors": errors,
    }


def test_a_tail_goal_passes_only_with_its_load_delivered_and_every_request_accepted() -> None:
    judged = goals(
        {
            "tails": [
                tail(1_000, 20.0, 1_000.0, {}),
                tail(5_000, 40.0, 3_000.0, {}),  # under p99, but the load was not delivered
            ]
        }
    )
    verdicts = {g["goal"]: g["verdict"] for g in judged if "open loop" in g["goal"]}

    assert verdicts == {
        "gateway p99 < 25 ms open loop, 1,000 events/s in 50-event requests": "PASS",
        "gateway p99 < 50 ms open loop, 5,000 events/s in 50-event requests": "MISS",
    }
    failed = goals({"tails": [tail(1_000, 20.0, 1_000.0, {"503": 1})]})
    assert [g["verdict"] for g in failed if "open loop" in g["goal"]] == ["MISS", "n/a"]


async def test_at_most_in_flight_requests_are_outstanding_the_rest_wait_on_the_clock() -> None:
    outstanding: list[int] = [0]
    most = 0

    async def held(index: int) -> int:
        nonlocal most
        outstanding[0] += 1
        most = max(most, outstanding[0])
        await asyncio.sleep(0.05)
        outstanding[0] -= 1
        return 202

    figures = await open_loop(held, rate=400, seconds=0.1, in_flight=4)

    assert most == 4
    assert figures["accepted"] == 40
    # 40 requests, 4 at a time, 50 ms each: the last leaves about 350 ms after its due time.
    assert figures["p99_ms"] >= 300
    assert figures["max_send_slip_ms"] >= 300


async def test_requests_unanswered_after_the_grace_are_cancelled_and_counted() -> None:
    async def never(index: int) -> int:
        await asyncio.sleep(60)
        return 202

    started = time.perf_counter()
    figures = await open_loop(never, rate=100, seconds=0.05, grace=0.1)

    assert time.perf_counter() - started < 1
    assert figures["errors"] == {"unanswered": 5}
    assert figures["requests_per_second"] == 0.0

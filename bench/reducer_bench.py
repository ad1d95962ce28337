"""Reducer benchmark: full reduce of a mixed log, and apply of one event onto a big snapshot.

Run: .venv/bin/python bench/reducer_bench.py [--events N] [--items N] [--runs N]
Prints the median wall time of several runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain import RecordedEvent, Snapshot, apply, reduce, validate_event

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
NOW = START + timedelta(days=400)


def _payload(rng: random.Random, kind: str, content_id: str) -> dict[str, Any]:
    if kind == "content.progressed":
        return {
            "contentId": content_id,
            "status": rng.choice(["in_progress", "completed", "passed"]),
            "score": rng.randint(0, 100),
            "interaction": {"interactionId": f"{content_id}.q", "state": {"choice": "c"}},
        }
    if kind == "media.progressed":
        return {
            "contentId": content_id,
            "positionSeconds": rng.uniform(0, 600),
            "durationSeconds": 600,
            "watchedSeconds": 10,
        }
    if kind == "quiz.attempted":
        return {
            "contentId": content_id,
            "score": rng.randint(0, 10),
            "maxScore": 10,
            "passed": rng.random() < 0.5,
        }
    return {"contentId": content_id, "rating": rng.choice(["easy", "perfect", "hard"])}


def mixed_log(count: int, items: int, seed: int = 7) -> list[RecordedEvent]:
    """`count` events of one user over `items` content items, in storage order.

    As in a real log, events are stored roughly in occurredAt order (one every ~5 minutes
    over weeks), except 5 % that arrive late from an offline device (up to a day late).
    """
    rng = random.Random(seed)
    kinds = ["content.progressed", "media.progressed", "quiz.attempted", "content.rated"]
    log = []
    for n in range(count):
        kind = rng.choice(kinds)
        delay = rng.randrange(86_400) if rng.random() < 0.05 else 0
        raw = {
            "eventId": f"e{n}",
            "occurredAt": (START + timedelta(seconds=n * 300 - delay)).isoformat(),
            "clientId": "bench",
            "type": kind,
            "payload": _payload(rng, kind, f"item-{rng.randrange(items)}"),
        }
        event = validate_event(raw, now=NOW)
        log.append(RecordedEvent(tenant_id="bench", user_id="u1", received_at=NOW, event=event))
    return log


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls of `action`, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    log = mixed_log(args.events, args.items)
    full = median_ms(lambda: reduce(log, tenant_id="bench", user_id="u1"), args.runs)
    print(f"reduce: {args.events} mixed events -> 1 snapshot: {full:.1f} ms (median)")
    shuffled = random.Random(1).sample(log, len(log))
    worst = median_ms(lambda: reduce(shuffled, tenant_id="bench", user_id="u1"), args.runs)
    print(f"reduce: the same events in random storage order: {worst:.1f} ms (median)")

    big = reduce(mixed_log(args.items * 5, args.items, seed=8), tenant_id="bench", user_id="u1")
    raw = {
        "eventId": "next",
        "occurredAt": ((big.last_updated or START) + timedelta(seconds=1)).isoformat(),
        "clientId": "bench",
        "type": "content.progressed",
        "payload": {"contentId": "item-3", "status": "completed", "score": 99},
    }
    event = validate_event(raw, now=NOW)
    one = [RecordedEvent(tenant_id="bench", user_id="u1", received_at=NOW, event=event)]
    step = median_ms(lambda: apply(big, one), args.runs * 20)
    print(f"apply: 1 event onto a {len(big.items)}-item snapshot: {step:.3f} ms (median)")
    stored = big.to_storage()
    write = median_ms(big.to_storage, args.runs)
    read = median_ms(lambda: Snapshot.from_storage(stored), args.runs)
    print(
        f"storage of that snapshot ({len(stored) / 1024:.0f} KiB): "
        f"to_storage {write:.2f} ms, from_storage {read:.2f} ms (median)"
    )


if __name__ == "__main__":
    main()

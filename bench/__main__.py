"""`make bench`: ingest (native events and xAPI statements), projection, freshness,
heartbeat load and growth, side by side with the raw limits and a naive design, on private
embedded servers.

Writes bench/results/<timestamp>.json and .png and prints a short table with PASS/MISS per
goal. `--full` (`make bench FULL=1`) runs the big sizes; `--only` picks sections.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    browser_track,
    chart,
    freshness,
    growth,
    ingest,
    limits,
    read_your_writes,
    report,
    xapi_ingest,
)
from bench.common import Sizes
from bench.heartbeat import heartbeats
from bench.projection import Drain, drain
from tests.support.projector import learner_events, projector_lab

SECTIONS = (
    "ingest",
    "xapi",
    "projection",
    "freshness",
    "growth",
    "read_your_writes",
    "browser_track",
)
RESULTS = Path(__file__).parent / "results"


def _projection(sizes: Sizes, results: dict[str, Any]) -> None:
    """Projection, its yardsticks and growth on one lab (one broker, one database server).

    Order matters: the first groups read the topic from its start, when it holds exactly the
    main events; later drains commit their group at the topic's end before publishing.
    """
    sections = results["meta"]["sections"]
    events = learner_events(
        sizes.projection_users,
        sizes.projection_events // sizes.projection_users,
        seed=1,
        prefix="b",
    )
    with tempfile.TemporaryDirectory() as tmp, projector_lab(Path(tmp)) as lab:
        if "projection" in sections:
            produced = limits.kafka_produce(lab, events)
            one = drain(Drain(lab, "one"), events, publish=False)
            _progress(f"projector {one['events_per_second']:.0f} events/s")
            two = drain(Drain(lab, "two"), events, projectors=2, publish=False)
            consumed = limits.kafka_consume(lab, "bench-raw-kafka", len(events))
            database = limits.raw_database(lab, "bench_raw", events)
            slow = limits.naive(lab, "bench_naive", events[: sizes.naive_events])
            _progress(
                f"raw database {database['events_per_second']:.0f}/s, "
                f"naive {slow['events_per_second']:.0f}/s"
            )
            results["projection"] = {
                "batch_max": lab.settings.projector_batch_max,
                "projector": one,
                "two_projectors": two,
                "raw_kafka": {
                    "produce_events_per_second": produced,
                    "consume_events_per_second": consumed,
                },
                "raw_database": database,
                "raw_limit_events_per_second": min(consumed, database["events_per_second"]),
                "naive": slow,
            }
        if "growth" in sections:
            results["growth"] = {
                "users": growth.users_scaling(lab, sizes.users_scaling),
                "replays": growth.replay_costs(lab, sizes.replay_sizes),
            }
            _progress("growth done")


def _progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the big sizes (minutes more)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    args = parser.parse_args()
    sizes = Sizes.of(args.full)
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "meta": {
            "started": stamp,
            "full": args.full,
            "sections": args.only,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sizes": sizes.__dict__,
            "write_commands": (
                "insert, update and delete commands the database executed on the measured "
                "database (SecantusDB `top`): one bulk write is one command per kind, "
                "whatever its document count"
            ),
        }
    }
    if "ingest" in args.only:
        results["ingest"] = ingest.run(sizes)
        _progress("ingest done")
    if "xapi" in args.only:
        results["xapi"] = xapi_ingest.run(sizes)
        _progress("xapi done")
    if "projection" in args.only or "growth" in args.only:
        _projection(sizes, results)
    if "freshness" in args.only:
        results["freshness"] = freshness.run(
            [freshness.steady(sizes.freshness_seconds), heartbeats(sizes.heartbeat_seconds)]
        )
        _progress("freshness done")
    if "read_your_writes" in args.only:
        results["read_your_writes"] = read_your_writes.run(sizes.freshness_seconds)
        _progress("read-your-writes done")
    if "browser_track" in args.only:
        results["browser_track"] = browser_track.run()
        _progress("browser track() done")
    results["goals"] = report.goals(results)
    results["meta"]["wall_seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_json(results, args.out / f"{stamp}.json")
    chart.write_chart(results, args.out / f"{stamp}.png")
    print(report.table(results))
    print(f"Results: {args.out / stamp}.json and .png")


if __name__ == "__main__":
    main()

"""`make bench`: ingest (native events and xAPI statements), projection, freshness,
heartbeat load and growth, live sync beside polling, course insights, the SDKs' track(),
user-token verification and the gateway under attack, side by side with the raw limits, a naive
design and a Quix Streams peer of the projector, on private embedded servers.

Every section runs `--runs` times (3 by default): each goal is judged on its median run and
printed with the min and the max, so that one lucky run is not a pass. Writes
bench/results/<timestamp>.json and .png and prints a short table (the last run's figures)
with PASS/MISS per goal. `--full` (`make bench FULL=1`) runs the big sizes and the memory
section (RSS before and after 1,000,000 events); `--only` picks sections.

A section that raises is reported FAILED with its error while the others run. `cpu` reads
each service's CPU per event beside floors measured in the same run; `tails` times the
gateway under open-loop loads; `--baseline COMMIT` (`make bench BASELINE=...`) runs the same
sections on a worktree of COMMIT and prints each figure beside its own (docs/bench.md).
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
    attack,
    baseline,
    browser_track,
    chart,
    compare,
    cpu_cost,
    failures,
    freshness,
    growth,
    ingest,
    insights,
    insights_flow,
    limits,
    live,
    memory,
    read_your_writes,
    report,
    sdk_client,
    tails,
    token_verify,
    xapi_ingest,
)
from bench.common import Sizes
from bench.heartbeat import heartbeats
from bench.peer import drain as peer_drain
from bench.projection import Drain, drain
from tests.support.projector import learner_events, projector_lab

SECTIONS = (
    "ingest",
    "xapi",
    "projection",
    "peer",
    "freshness",
    "growth",
    "read_your_writes",
    "browser_track",
    "attack",
    "sdk_client",
    "token_verify",
    "live",
    "cpu",
    "tails",
    "insights",
    "memory",
)
# Memory runs a million events (minutes): only with --full, or when named in --only.
DEFAULT_SECTIONS = tuple(section for section in SECTIONS if section != "memory")
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
            with failures.recorded(results, "projection"):
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
            with failures.recorded(results, "growth"):
                results["growth"] = {
                    "users": growth.users_scaling(lab, sizes.users_scaling),
                    "replays": growth.replay_costs(lab, sizes.replay_sizes),
                }
                _progress("growth done")


SHARED_LAB = ("projection", "growth")
"""Sections that run on one lab (see `_projection`): they run, and fail to start, together."""


def _units(only: list[str]) -> list[tuple[str, ...]]:
    """The chosen sections in the groups that run together, in the order chosen."""
    units: list[tuple[str, ...]] = []
    for section in only:
        unit = tuple(s for s in SHARED_LAB if s in only) if section in SHARED_LAB else (section,)
        if unit not in units:
            units.append(unit)
    return units


def _progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def _sections(sizes: Sizes, only: list[str], results: dict[str, Any], live_rate: float) -> None:
    """One run of the chosen sections, each adding its figures to `results`."""
    if "ingest" in only:
        results["ingest"] = ingest.run(sizes)
        _progress("ingest done")
    if "xapi" in only:
        results["xapi"] = xapi_ingest.run(sizes)
        _progress("xapi done")
    if "projection" in only or "growth" in only:
        _projection(sizes, results)
    if "peer" in only:
        results["peer"] = peer_drain.run(sizes)
        _progress("peer (Quix Streams) done")
    if "freshness" in only:
        seconds = sizes.freshness_seconds
        results["freshness"] = freshness.run(
            [
                freshness.steady(seconds),
                heartbeats(sizes.heartbeat_seconds),
                freshness.at_rate(2_500, 50, seconds),
                freshness.at_rate(1_500, 10, seconds),
            ]
        )
        _progress("freshness done")
    if "read_your_writes" in only:
        results["read_your_writes"] = read_your_writes.run(sizes.freshness_seconds)
        _progress("read-your-writes done")
    if "attack" in only:
        results["attack"] = attack.run(sizes.attack_seconds)
        _progress("attack mix done")
    if "browser_track" in only:
        results["browser_track"] = browser_track.run(runs=1)  # the runs are repeated here
        _progress("browser track() done")
    if "sdk_client" in only:
        results["sdk_client"] = sdk_client.run()
        _progress("Python SDK track()+flush done")
    if "live" in only:
        results["live"] = live.run(sizes.freshness_seconds, live_rate)
        _progress("live sync done")
    if "token_verify" in only:
        results["token_verify"] = token_verify.run()
        _progress("token verification done")
    if "cpu" in only:
        results["cpu"] = cpu_cost.run(sizes)
        _progress("CPU per event done")
    if "tails" in only:
        results["tails"] = tails.run(sizes)
        _progress("open-loop tails done")
    if "insights" in only:
        results["insights"] = insights.run(sizes.full)
        results["insights_flow"] = insights_flow.run(sizes.freshness_seconds)
        _progress("insights done")


def _baseline(args: argparse.Namespace) -> dict[str, Any]:
    """The baseline commit's results with the same options, or the record of its failure."""
    measured: dict[str, Any] = {"asked": args.baseline}
    with failures.recorded(measured, "baseline"):
        options = {"runs": args.runs, "full": args.full, "live_rate": args.live_rate}
        measured.update(baseline.measure(args.baseline, {**options, "only": args.only}))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the big sizes (minutes more)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(DEFAULT_SECTIONS))
    parser.add_argument(
        "--runs", type=int, default=3, help="repeat the sections; goals are judged on the median"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument(
        "--live-rate", type=float, default=1_500.0, help="live section's load, events/s (1,500)"
    )
    parser.add_argument(
        "--baseline", metavar="COMMIT", help="run the same sections on COMMIT too, side by side"
    )
    args = parser.parse_args()
    sizes = Sizes.of(args.full)
    only = [*args.only, *(["memory"] if args.full and "memory" not in args.only else [])]
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    meta = {
        "started": stamp,
        "full": args.full,
        "sections": only,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sizes": sizes.__dict__,
        "write_commands": (
            "insert, update and delete commands the database executed on the measured "
            "database (SecantusDB `top`): one bulk write is one command per kind, "
            "whatever its document count"
        ),
    }
    runs: list[dict[str, Any]] = []
    for number in range(args.runs):
        _progress(f"run {number + 1} of {args.runs}")
        run: dict[str, Any] = {"meta": meta}
        for unit in _units(only):
            with failures.recorded(run, *unit):
                _sections(sizes, list(unit), run, args.live_rate)
        runs.append(run)
    if "memory" in only:
        with failures.recorded(runs[-1], "memory"):
            runs[-1]["memory"] = memory.run(sizes.memory_events)
            _progress("memory done")
    results = dict(runs[-1])
    results["failures"] = failures.failures(runs)
    results["goals"] = report.summarise([report.goals(run) for run in runs])
    results["runs"] = runs
    if args.baseline:
        results["baseline"] = _baseline(args)
    results["meta"] = {
        **meta,
        "wall_seconds": time.perf_counter() - started,
        "load_average": os.getloadavg()[0],  # how busy the machine was (1-minute mean at the end)
    }
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_json(results, args.out / f"{stamp}.json")
    print(report.table(results))
    if args.baseline:
        print("\n" + compare.side_by_side(results["goals"], results["baseline"]))
    chart.write_chart(results, args.out / f"{stamp}.png")
    print(f"Results: {args.out / stamp}.json and .png")


if __name__ == "__main__":
    main()

"""`make chaos`: faults and fuzzing against a private stack, then the invariant on every event.

`--phase groups` runs the consumer-group torture instead (`chaos.groups`).

Phases: start the stack; a steady load of writes while each process is killed or frozen in
turn; resend what was left unknown; fuzz every route; send the exposure attacks while
probing `/healthz`; let the projector settle; check that
every accepted event is stored exactly once and every snapshot equals `reduce` of its log.
Writes `var/chaos/<timestamp>/report.json` and prints a table; exits 1 when the invariant
broke (or a 5xx was seen, unless `--allow-5xx`), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from chaos.exposure import exposure
from chaos.faults import Faults
from chaos.fuzz import Fuzzer
from chaos.fuzz_tokens import ChaosIdentity
from chaos.groups import group_campaign, group_failures, start_group_stack
from chaos.insight_check import insights_check
from chaos.ledger import Ledger
from chaos.load import Load
from chaos.logscan import error_causes
from chaos.report import failures, print_group_report, print_report, write_report
from chaos.routes import discover
from chaos.stack import ChaosStack, start_stack
from chaos.traffic import EventMaker
from chaos.verify import settle, verify

console = Console(stderr=True, highlight=False)
_FULL = {
    "duration": 300.0,
    "fuzz_seconds": 120.0,
    "fault_seconds": 5.0,
    "recovery_seconds": 15.0,
    "settle_timeout": 90.0,
}
_QUICK = {
    "duration": 40.0,
    "fuzz_seconds": 20.0,
    "fault_seconds": 2.0,
    "recovery_seconds": 3.0,
    "settle_timeout": 45.0,
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 2 minutes instead of 10")
    parser.add_argument(
        "--phase",
        choices=("campaign", "groups"),
        default="campaign",
        help="campaign: faults, fuzzing and attacks on one of each service (default); groups: "
        "the consumer-group torture (12 partitions, 4 projectors, 2 retry workers, a zombie)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds of load and faults, at least one turn of all five (default 300, --quick 40)",
    )
    parser.add_argument(
        "--fuzz-seconds", type=float, help="seconds of fuzzing (default 120, --quick 20)"
    )
    parser.add_argument(
        "--fault-seconds", type=float, help="how long each fault lasts (default 5, --quick 2)"
    )
    parser.add_argument(
        "--recovery-seconds", type=float, help="pause after a fault (default 15, --quick 3)"
    )
    parser.add_argument(
        "--settle-timeout", type=float, help="max wait for the projector (default 90, --quick 45)"
    )
    parser.add_argument("--rate", type=float, default=250.0, help="load events per second (250)")
    parser.add_argument("--users", type=int, default=20, help="users the load writes for (20)")
    parser.add_argument(
        "--resend-share", type=float, default=0.05, help="share of resent accepted events (0.05)"
    )
    parser.add_argument(
        "--late-share",
        type=float,
        default=0.05,
        help="share of events with a late occurredAt (0.05)",
    )
    parser.add_argument("--seed", type=int, help="random seed (default: from the clock)")
    parser.add_argument("--allow-5xx", action="store_true", help="5xx alone do not fail the run")
    parser.add_argument("--keep-data", action="store_true", help="keep the database files")
    parser.add_argument(
        "--out", type=Path, default=Path("var/chaos"), help="where runs go (var/chaos)"
    )
    args = parser.parse_args(argv)
    for name, value in (_QUICK if args.quick else _FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.seed is None:
        args.seed = int(time.time())
    return args


async def _campaign(stack: ChaosStack, args: argparse.Namespace, run_dir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    ledger = Ledger()
    maker = EventMaker(rng, args.late_share, run_id=f"c{args.seed}")
    users = [f"load-{n:02d}" for n in range(args.users)]
    load = Load(stack.gateway_url, ledger, maker, rng, users, args.rate, args.resend_share)
    faults = Faults(stack, args.fault_seconds, args.recovery_seconds)
    supervisor = asyncio.create_task(faults.supervise())
    fuzzer: Fuzzer | None = None
    try:
        console.print(f"load at {args.rate:.0f} events/s for {args.duration:.0f} s, faults in turn")
        until = time.monotonic() + args.duration
        done = asyncio.Event()
        writing = asyncio.create_task(load.run(done))
        await asyncio.sleep(min(10.0, args.duration / 10))
        await faults.inject(until)
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        done.set()
        await writing
        console.print(f"resending {len(ledger.outbox)} events whose answer was unknown")
        await load.flush(time.monotonic() + 30.0)
        routes = [
            *await asyncio.to_thread(discover, stack.gateway_url),
            *await asyncio.to_thread(discover, stack.demo_url),
        ]
        console.print(f"fuzzing {len(routes)} routes for {args.fuzz_seconds:.0f} s")
        identity = ChaosIdentity()
        await identity.register(stack.settings)
        fuzzer = Fuzzer(routes, run_dir, ledger, args.seed, identity)
        await asyncio.to_thread(fuzzer.run, args.fuzz_seconds)
        console.print("sending the exposure attacks while probing /healthz")
        exposed = await exposure(stack.gateway_url)
        console.print("waiting for the projector to settle")
        mongo, database = stack.settings.mongo_url, stack.settings.mongo_database
        keys = set(ledger.accepted)
        settled = await settle(mongo, database, keys, 5.0, args.settle_timeout)
        verdict = await asyncio.to_thread(verify, mongo, database, dict(ledger.accepted))
        console.print("comparing the course insights with a recount")
        insights = await insights_check(stack.settings, args.settle_timeout)
    finally:
        if fuzzer is not None:
            fuzzer.stop.set()
        supervisor.cancel()
    return {
        "ledger": ledger.as_dict(),
        "load": load.as_dict(),
        "faults": faults.as_dict(),
        "fuzz": fuzzer.as_dict(),
        "exposure": exposed,
        "settle": settled,
        "check": verdict.as_dict(),
        "insights": insights,
        "service_errors": error_causes(stack.logs),
    }


def _on_term(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; return the exit code."""
    args = _arguments(argv)
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.out / stamp
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    console.print(f"chaos run {stamp}, seed {args.seed}; logs in {run_dir / 'data' / 'logs'}")
    stack: ChaosStack | None = None
    groups = args.phase == "groups"
    try:
        if groups:
            stack = start_group_stack(run_dir / "data")
            report = asyncio.run(group_campaign(stack, args))
        else:
            stack = start_stack(run_dir / "data")
            report = asyncio.run(_campaign(stack, args, run_dir))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping everything[/]")
        return 130
    finally:
        if stack is not None:
            stack.stop(keep_data=args.keep_data)
            left = stack.leftovers()
            console.print(f"[red]still running: {left}[/]" if left else "stack stopped")
    report["duration_seconds"] = round(time.monotonic() - started, 1)
    report["options"] = {key: str(value) for key, value in vars(args).items()}
    report["failures"] = group_failures(report) if groups else failures(report, args.allow_5xx)
    path = write_report(report, run_dir)
    if groups:
        print_group_report(report, console)
    else:
        print_report(report, console)
    for reason in report["failures"]:
        console.print(f"[red]FAIL[/] {reason}")
    console.print(f"report: {path}")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

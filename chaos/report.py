"""The campaign's report: `report.json` in the run's directory and a table on the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chaos.exposure import STALL_SECONDS

__all__ = ["failures", "print_report", "write_report"]


def failures(report: dict[str, Any], allow_5xx: bool) -> list[str]:
    """Why the run fails (empty: it passed). 5xx count unless `allow_5xx`."""
    check = report["check"]
    reasons = []
    if check["lost"]:
        reasons.append(f"{check['lost']} accepted events lost")
    if check["doubled"]:
        reasons.append(f"{check['doubled']} events stored more than once")
    if check["snapshots_mismatched"]:
        reasons.append(f"{check['snapshots_mismatched']} snapshots differ from reduce(log)")
    if check["seq_collisions"]:
        reasons.append(f"{check['seq_collisions']} log positions used twice")
    insights = report.get("insights", {})
    if insights.get("scopes_differing"):
        reasons.append(
            f"course insights differ from a recount in {insights['scopes_differing']} scope(s) "
            f"(consumer lag at the check: {insights['lag_at_check']})"
        )
    if not allow_5xx:
        if report["fuzz"]["5xx_total"]:
            reasons.append(f"{report['fuzz']['5xx_total']} 5xx answers to fuzzed requests")
        unexpected = sum(
            count
            for status, count in report["load"]["answers"].items()
            if status.isdigit() and int(status) >= 500 and status != "503"
        )
        if unexpected:
            reasons.append(f"{unexpected} 5xx other than 503 answered to valid writes")
    exposed = report["exposure"]
    if exposed["failed"] and not allow_5xx:
        reasons.append(f"{exposed['failed']} hostile requests answered 5xx or dropped")
    if exposed["healthz_stalls"]:
        reasons.append(
            f"/healthz stalled over {STALL_SECONDS:g} s {exposed['healthz_stalls']} times "
            f"during the exposure attacks (longest {exposed['healthz_longest_ms']:.0f} ms)"
        )
    for forgery in report["fuzz"]["forgeries_not_refused"]:
        reasons.append(f"a forged token was not refused with 401: {forgery}")
    for case, status in report["fuzz"]["known_mismatches"].items():
        reasons.append(f"named case {case!r} answered {status}")
    if report["faults"]["unexpected_exits"]:
        reasons.append(f"processes exited by themselves: {report['faults']['unexpected_exits']}")
    return reasons


def write_report(report: dict[str, Any], directory: Path) -> Path:
    """Write `report.json` into `directory`; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def print_report(report: dict[str, Any], console: Console) -> None:
    """The headline figures, then 5xx per route, then the verdict."""
    check, fuzz, faults, load = report["check"], report["fuzz"], report["faults"], report["load"]
    exposed = report["exposure"]
    table = Table(title="make chaos", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("events accepted", report["ledger"]["accepted"]),
        ("  by source", _inline(report["ledger"]["accepted_by_source"])),
        ("events lost", check["lost"]),
        ("  by source", _inline(check["lost_by_source"])),
        ("  of which dead-lettered", check["lost_of_which_dead_lettered"]),
        ("events doubled", check["doubled"]),
        ("unknown at the end (never confirmed)", report["ledger"]["unresolved_unknown"]),
        ("valid load events rejected", sum(report["ledger"]["load_events_rejected"].values())),
        ("faults injected", faults["total"]),
        ("  slowest back (s)", _inline(faults["slowest_back_seconds"])),
        ("  unexpected exits", _inline(faults["unexpected_exits"]) or 0),
        ("load answers", _inline(load["answers"])),
        ("fuzz requests", fuzz["requests"]),
        ("bodies tried", fuzz["bodies_tried"]),
        ("5xx seen (fuzz)", fuzz["5xx_total"]),
        ("hostile requests 5xx or dropped", exposed["failed"]),
        (
            f"/healthz during them: p99 ms, longest ms, stalls > {STALL_SECONDS:g} s",
            f"{exposed['healthz_p99_ms']}, {exposed['healthz_longest_ms']}, "
            f"{exposed['healthz_stalls']} of {exposed['healthz_probes']}",
        ),
        ("users checked", check["users_checked"]),
        ("snapshots mismatched", check["snapshots_mismatched"]),
        ("projector settled", _inline(report["settle"])),
        ("duration", f"{report['duration_seconds']:.0f} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    if fuzz["5xx"]:
        per_route = Table(title="5xx per route (fuzz)")
        per_route.add_column("route -> status")
        per_route.add_column("count", justify="right")
        for finding, count in sorted(fuzz["5xx"].items()):
            per_route.add_row(finding, str(count))
        console.print(per_route)
    attacks = Table(title="exposure attacks (answers)")
    attacks.add_column("attack")
    attacks.add_column("answers")
    for name, counts in exposed["answers"].items():
        attacks.add_row(name, _inline(counts))
    console.print(attacks)
    if fuzz["known_cases"]:
        known = Table(title="named cases from issues 14 and 23 (answer)")
        known.add_column("case")
        known.add_column("user: answer")
        for case, outcome in fuzz["known_cases"].items():
            known.add_row(case, outcome[:90])
        console.print(known)
    if report["service_errors"]:
        causes = Table(title="errors the services logged (most frequent causes)")
        causes.add_column("service: event: cause")
        causes.add_column("count", justify="right")
        for cause, count in report["service_errors"].items():
            causes.add_row(cause, str(count))
        console.print(causes)
    for user, problem in list(check["mismatch_samples"].items())[:5]:
        console.print(f"[yellow]snapshot of {user}:[/] {problem}")


def _inline(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in mapping.items())


def print_group_report(report: dict[str, Any], console: Console) -> None:
    """The consumer-group torture's figures (`--phase groups`)."""
    check, groups, devices = report["check"], report["groups"], report["devices"]
    table = Table(title="make chaos: consumer groups", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        (
            "partitions, projectors, retry workers",
            f"{groups['partitions']}, {groups['projectors']}, {groups['retry_workers']}",
        ),
        (
            f"zombie: {groups['zombie']} frozen (s), session timeout (ms)",
            f"{groups['frozen_seconds']:g}, {groups['session_timeout_ms']}",
        ),
        ("partition growth mid-run", groups["growth"][:90]),
        ("consumer log lines", _inline(groups["log_lines"])),
        ("events accepted", report["ledger"]["accepted"]),
        ("load answers", _inline(report["load"]["answers"])),
        ("events stored", check["events_stored"]),
        ("events lost", check["lost"]),
        ("events doubled", check["doubled"]),
        ("users checked", check["users_checked"]),
        ("snapshots mismatched", check["snapshots_mismatched"]),
        ("devices following since", devices["devices"]),
        ("  events received, pages", f"{devices['received']}, {devices['pages']}"),
        (
            "  missed, twice, unknown",
            f"{devices['missed']}, {devices['twice']}, {devices['unknown']}",
        ),
        ("settled", _inline(report["settle"])),
        ("duration", f"{report['duration_seconds']:.0f} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    for cause, count in report["service_errors"].items():
        console.print(f"[yellow]{cause}[/]: {count}")

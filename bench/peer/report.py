"""The `peer` section's goals and printed lines: the projector beside the Quix Streams peer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.common import WRITE_COMMANDS

__all__ = ["peer_goals", "peer_lines"]

Judge = Callable[[str, float | None, bool | None, str], None]


def peer_goals(judge: Judge, peer: dict[str, Any] | None) -> None:
    """Projector events/s >= the peer's, and CPU per event <= the peer's (at-least-once).

    Each figure is the projector's over the peer's, so the median of the runs is judged
    like every other goal; both are listed, n/a, when the section did not run.
    """
    ours = peer["projector"] if peer else None
    theirs = peer["quix"] if peer else None
    rate = ours["events_per_second"] / theirs["events_per_second"] if ours and theirs else None
    judge(
        "projector events/s >= peer (Quix Streams, at-least-once)",
        rate,
        rate >= 1.0 if rate is not None else None,
        f"{rate:.2f}x" if rate is not None else "-",
    )
    cpu = (
        ours["cpu_ms_per_event"] / theirs["cpu_ms_per_event"]
        if ours and theirs and ours["cpu_ms_per_event"] and theirs["cpu_ms_per_event"]
        else None
    )
    judge(
        "projector CPU/event <= peer (Quix Streams, at-least-once)",
        cpu,
        cpu <= 1.0 if cpu is not None else None,
        f"{cpu:.2f}x the peer's CPU" if cpu is not None else "-",
    )


def _write_ms_per_event(figures: dict[str, Any], events: int) -> float:
    """The database server's time in the drain's write commands, per event."""
    server_ms: dict[str, float] = figures["db"]["server_ms"]
    return sum(server_ms.get(kind, 0.0) for kind in WRITE_COMMANDS) / events


def peer_lines(peer: dict[str, Any] | None, add: Callable[[str], None]) -> None:
    """Each drain's figures with its delivery guarantee.

    The database's time in the writes shows where the events/s go: the projector appends
    every event to the log besides its snapshot upserts; the peer writes snapshots only.
    """
    if not peer:
        return
    add("")
    add(
        f"Peer: the same reduction as a Quix Streams application ({peer['events']:,} events, "
        f"{peer['users']:,} users, each drain a fresh group into its own database)"
    )
    rows = [
        ("projector", peer["projector"], "exactly-once effect (event log, seq-guarded writes)"),
        ("Quix", peer["quix"], peer["quix"]["delivery"]),
        ("Quix EOS", peer["quix_exactly_once"], peer["quix_exactly_once"]["delivery"]),
    ]
    for name, figures, guarantee in rows:
        cpu = figures["cpu_ms_per_event"]
        add(
            f"  {name:<10} {figures['events_per_second']:8.0f} events/s  "
            f"{cpu if cpu is not None else float('nan'):.3f} ms CPU/event  "
            f"{figures['write_commands_per_event']:.3f} write commands/event, "
            f"{_write_ms_per_event(figures, peer['events']):.3f} ms of database writes/event"
        )
        add(f"             {guarantee}")

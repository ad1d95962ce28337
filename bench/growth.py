"""How the projector's costs grow: with a user's log (late-event replays) and with users.

A late event (one that sorts before what the snapshot already applied) makes the projector
recompute that user's snapshot: from the newest checkpoint the late event sorts after (one
kept every 1,000 events of the user's log), so its cost is the events after that point. Two
kinds are measured per log size: `recent` (the late event sorts just before the user's
last few events: a device a little behind, the common case, bounded by the checkpoints) and
`first` (it sorts before everything: the whole log is replayed, the worst case). The figure
is the projector's own `progress_projector_replay_seconds`, averaged over the users per log
size, plus the wall time from publishing the late events to their being applied.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.limits import raw_database
from bench.projection import Drain, drain, wait_handled
from shared.domain import RecordedEvent, sort_key
from tests.support.projector import ProjectorLab, learner_events, metric

__all__ = ["replay_costs", "users_scaling"]

_USERS_PER_SIZE = 3
_FEW_USERS_FROM = 10_000
"""Logs this long are measured on one user each (building them takes the time)."""
_TIMEOUT_SECONDS = 600.0


_RECENT = 5
"""A `recent` late event sorts before the user's last five events."""


def _late_split(
    events: Sequence[RecordedEvent], kind: str
) -> tuple[list[RecordedEvent], list[RecordedEvent]]:
    """One event per user held back to arrive late (`first` or `recent` in fold order)."""
    per_user: dict[str, list[RecordedEvent]] = {}
    for event in events:
        per_user.setdefault(event.user_id, []).append(event)
    held: list[RecordedEvent] = []
    for user_events in per_user.values():
        ordered = sorted(user_events, key=sort_key)
        held.append(ordered[0] if kind == "first" else ordered[-min(_RECENT, len(ordered))])
    late = set(map(id, held))
    return [e for e in events if id(e) not in late], held


def replay_costs(lab: ProjectorLab, sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Per log size and kind: ms to recompute a snapshot when a late event arrives."""
    run = Drain(lab, "replay")
    run.start_at_end()
    logs: dict[tuple[int, str], tuple[list[RecordedEvent], list[RecordedEvent]]] = {
        (size, kind): _late_split(
            learner_events(
                _USERS_PER_SIZE if size < _FEW_USERS_FROM else 1,
                size + 1,
                seed=size,
                prefix=f"r{kind[0]}{size}",
            ),
            kind,
        )
        for size in sizes
        for kind in ("recent", "first")
    }
    base = [event for on_time, _ in logs.values() for event in on_time]
    lab.publish(base)
    (server,) = run.start()
    results: list[dict[str, Any]] = []
    try:
        wait_handled([server], len(base), _TIMEOUT_SECONDS, poll=0.02)
        done = float(len(base))
        for (size, kind), (_, late) in logs.items():
            count = metric(server, "progress_projector_replay_seconds_count")
            seconds = metric(server, "progress_projector_replay_seconds_sum")
            started = time.perf_counter()
            lab.publish(late)
            done += len(late)
            wait_handled([server], done, _TIMEOUT_SECONDS, poll=0.02)
            wall = time.perf_counter() - started
            replays = metric(server, "progress_projector_replay_seconds_count") - count
            spent = metric(server, "progress_projector_replay_seconds_sum") - seconds
            results.append(
                {
                    "events_per_user": size,
                    "kind": kind,
                    "late_events": len(late),
                    "replays": replays,
                    "replay_ms": spent / replays * 1000 if replays else float("nan"),
                    "publish_to_applied_ms": wall * 1000,
                }
            )
    finally:
        server.stop()
    return results


def users_scaling(lab: ProjectorLab, shapes: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """Per (users, events): one projector's drain and the raw database limit of the same."""
    results: list[dict[str, Any]] = []
    for users, total in shapes:
        events = learner_events(users, max(1, total // users), seed=users, prefix=f"s{users}")
        result = drain(Drain(lab, f"users{users}"), events)
        result["raw_database"] = raw_database(lab, f"bench_raw_users{users}", events)
        results.append(result)
    return results

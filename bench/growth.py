"""How the projector's costs grow: with a user's log (late-event replays) and with users.

A late event (one that sorts before what the snapshot already applied) makes the projector
rebuild that user's snapshot from the whole log: its cost grows with the log. The figure is
the projector's own `progress_projector_replay_seconds` (read the log + reduce), averaged
over a few users per log size, plus the wall time from publishing the late events to their
being applied.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.limits import raw_database
from bench.projection import Drain, applied, drain
from shared.domain import RecordedEvent, sort_key
from tests.support.projector import ProjectorLab, learner_events, metric

__all__ = ["replay_costs", "users_scaling"]

_USERS_PER_SIZE = 3
_TIMEOUT_SECONDS = 600.0


def _late_split(
    events: Sequence[RecordedEvent],
) -> tuple[list[RecordedEvent], list[RecordedEvent]]:
    """Each user's first event in fold order held back (to arrive late), and the rest."""
    first: dict[str, RecordedEvent] = {}
    for event in events:
        held = first.get(event.user_id)
        if held is None or sort_key(event) < sort_key(held):
            first[event.user_id] = event
    late = set(map(id, first.values()))
    return [e for e in events if id(e) not in late], list(first.values())


def _wait_applied(servers: Sequence[Any], count: float) -> float:
    started = time.perf_counter()
    while applied(servers) < count:
        if time.perf_counter() - started > _TIMEOUT_SECONDS:
            raise TimeoutError(f"{count:.0f} events not applied in {_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - started


def replay_costs(lab: ProjectorLab, sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Per log size: ms to rebuild a snapshot when a late event arrives for its user."""
    run = Drain(lab, "replay")
    run.start_at_end()
    logs: dict[int, tuple[list[RecordedEvent], list[RecordedEvent]]] = {
        size: _late_split(learner_events(_USERS_PER_SIZE, size + 1, seed=size, prefix=f"r{size}"))
        for size in sizes
    }
    base = [event for on_time, _ in logs.values() for event in on_time]
    lab.publish(base)
    (server,) = run.start()
    results: list[dict[str, Any]] = []
    try:
        _wait_applied([server], len(base))
        done = float(len(base))
        for size, (_, late) in logs.items():
            count = metric(server, "progress_projector_replay_seconds_count")
            seconds = metric(server, "progress_projector_replay_seconds_sum")
            started = time.perf_counter()
            lab.publish(late)
            done += len(late)
            _wait_applied([server], done)
            wall = time.perf_counter() - started
            replays = metric(server, "progress_projector_replay_seconds_count") - count
            spent = metric(server, "progress_projector_replay_seconds_sum") - seconds
            results.append(
                {
                    "events_per_user": size,
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

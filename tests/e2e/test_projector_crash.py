"""Crash-safe and scale-out: kill -9, restarts and rebalances neither lose nor double an event."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.projector import (
    ProjectorLab,
    learner_events,
    metric,
    projector_lab,
    reductions,
    resent_and_shuffled,
    totals,
)
from tests.support.services import eventually

pytestmark = pytest.mark.e2e

SMALL_BATCHES = {"projector_batch_max": 50}
"""Many small batches: many commits, so a kill lands between or inside some of them."""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[ProjectorLab]:
    with projector_lab(tmp_path) as running:
        yield running


def _logged_more_than(lab: ProjectorLab, count: int) -> int | None:
    size = lab.log_size()
    return size if size > count else None


def test_kill_9_mid_stream_and_restart_apply_every_event_exactly_once(lab: ProjectorLab) -> None:
    events = learner_events(users=20, per_user=100, seed=21)
    sent = resent_and_shuffled(events, share=0.1, seed=22)
    half = len(sent) // 2
    lab.publish(sent[:half])

    first = lab.start_projector("projector-1", **SMALL_BATCHES)
    eventually(lambda: _logged_more_than(lab, 250), timeout=60)
    first.signal(signal.SIGKILL)
    first.stop()
    logged_at_kill = lab.log_size()
    lab.publish(sent[half:])
    first_half = {(event.user_id, event.event_id) for event in sent[:half]}
    assert logged_at_kill < len(first_half), "the kill must fall in the middle of the stream"

    restarted = lab.start_projector("projector-2", **SMALL_BATCHES)
    expected = reductions(events)
    stored = eventually(lambda: lab.caught_up(expected), timeout=180, interval=1.0)

    assert totals(stored) == totals(expected)
    assert stored == expected
    assert sum(len(log) for log in lab.logged().values()) == len(events)
    assert metric(restarted, "progress_projector_events_total", outcome="failed") == 0
    assert lab.dead_letters() == []


def test_a_projector_leaving_its_group_mid_stream_loses_and_doubles_nothing(
    lab: ProjectorLab,
) -> None:
    events = learner_events(users=30, per_user=60, seed=31)
    sent = resent_and_shuffled(events, share=0.1, seed=32)
    cut = len(sent) * 2 // 3
    staying, leaving = lab.start_projectors(
        "projector-staying", "projector-leaving", **SMALL_BATCHES
    )
    eventually(lambda: True if lab.group_members() == 2 else None, timeout=60)
    lab.publish(sent[:cut])

    def both_applied() -> bool | None:
        done = [
            metric(p, "progress_projector_events_total", outcome="applied")
            for p in (staying, leaving)
        ]
        return True if all(done) else None

    eventually(both_applied, timeout=90, interval=0.2)
    leaving.stop()
    lab.publish(sent[cut:])

    expected = reductions(events)
    stored = eventually(lambda: lab.caught_up(expected), timeout=180, interval=1.0)

    assert totals(stored) == totals(expected)
    assert stored == expected
    assert sum(len(log) for log in lab.logged().values()) == len(events)
    assert lab.dead_letters() == []

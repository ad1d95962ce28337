"""Batched, idempotent and order-proof: whatever arrives, each snapshot is `reduce` of the log."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.support.projector import (
    ProjectorLab,
    learner_events,
    metric,
    projector_lab,
    reductions,
    resent_and_shuffled,
)
from tests.support.services import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[ProjectorLab]:
    with projector_lab(tmp_path) as running:
        yield running


def test_shuffled_stream_with_resends_reduces_to_each_users_log(lab: ProjectorLab) -> None:
    events = learner_events(users=30, per_user=100, seed=11, resets=True)
    sent = resent_and_shuffled(events, share=0.2, seed=12)
    lab.publish(sent)
    projector = lab.start_projector("projector")

    expected = reductions(events)
    stored = eventually(lambda: lab.caught_up(expected), timeout=240, interval=1.0)

    assert stored == expected
    logged = lab.logged()
    assert {user: reductions(log)[user] for user, log in logged.items()} == expected
    assert sum(len(log) for log in logged.values()) == len(events)
    # A batch is counted after its snapshots are written (and acknowledged): wait for it.
    applied = partial(metric, projector, "progress_projector_events_total", outcome="applied")
    eventually(lambda: applied() == len(events) or None, timeout=30)
    assert metric(projector, "progress_projector_events_total", outcome="duplicate") == len(
        sent
    ) - len(events)
    assert metric(projector, "progress_projector_replays_total") > 0
    assert lab.dead_letters() == []

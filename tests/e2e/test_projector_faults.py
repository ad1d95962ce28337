"""Outages and poison: a frozen database pauses the projector; a bad message is dead-lettered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from shared.adapters.topics import DLQ_TOPIC, TIER_TOPICS
from shared.domain.wire import message_key
from tests.support.kafka_probe import topic_size
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

OUTAGE_ROUNDS = 4
"""Batches the projector must put back before the database thaws: as many as the fixed 20 s
freeze this test once slept gave with the lab's 2 s database timeout, so a projector that
gives up on a batch after a few failed tries still fails the test."""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[ProjectorLab]:
    with projector_lab(tmp_path) as running:
        yield running


def _readiness(port: int, status: int) -> dict[str, str] | None:
    response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    checks: dict[str, str] = response.json()["checks"]
    return checks if response.status_code == status else None


def _retry_and_dlq_sizes(lab: ProjectorLab) -> dict[str, int]:
    topics = [*TIER_TOPICS, DLQ_TOPIC]
    return {topic: topic_size(lab.settings, topic) for topic in topics}


def test_a_frozen_database_pauses_the_projector_and_nothing_is_dead_lettered(
    lab: ProjectorLab,
) -> None:
    events = learner_events(users=30, per_user=60, seed=41)
    sent = resent_and_shuffled(events, share=0.1, seed=42)
    third = len(sent) // 3
    projector = lab.start_projector("projector", projector_batch_max=100)
    lab.publish(sent[:third])
    eventually(lambda: lab.log_size() or None, timeout=60)

    lab.database.freeze()
    try:
        lab.publish(sent[third:])
        checks = eventually(lambda: _readiness(projector.port, 503), timeout=20)
        assert checks == {"kafka": "ok", "mongodb": "unavailable"}
        outages = partial(metric, projector, "progress_projector_outages_total")
        eventually(lambda: outages() >= OUTAGE_ROUNDS or None, timeout=60)
    finally:
        lab.database.thaw()

    expected = reductions(events)
    stored = eventually(lambda: lab.caught_up(expected), timeout=120, interval=1.0)
    assert totals(stored) == totals(expected)
    assert stored == expected
    assert eventually(lambda: _readiness(projector.port, 200)) == {"kafka": "ok", "mongodb": "ok"}
    assert lab.dead_letters() == []
    assert set(_retry_and_dlq_sizes(lab).values()) == {0}
    assert metric(projector, "progress_projector_events_total", outcome="failed") == 0


def test_poison_messages_are_dead_lettered_as_sent_and_the_stream_flows_on(
    lab: ProjectorLab,
) -> None:
    events = learner_events(users=10, per_user=30, seed=51)
    victim = events[0]
    valid = json.loads(victim.to_json())
    garbage = b"\xff\xfe{not json at all\x00"
    unknown_type = json.dumps({**valid, "eventId": "poison-1", "type": "content.teleported"})
    without_tenant = json.dumps({k: v for k, v in valid.items() if k != "tenantId"})
    poison = [garbage, unknown_type.encode(), without_tenant.encode()]

    projector = lab.start_projector("projector")
    lab.publish(events[: len(events) // 2])
    lab.publish_raw(poison, key=message_key(victim.tenant_id, victim.user_id))
    lab.publish(events[len(events) // 2 :])

    expected = reductions(events)
    assert eventually(lambda: lab.caught_up(expected), timeout=90, interval=0.5) == expected
    letters = eventually(lambda: lab.dead_letters() if len(lab.dead_letters()) >= 3 else None)
    assert sorted(letter["raw"] for letter in letters) == sorted(poison)
    assert {letter["reason"] for letter in letters} == {"undecodable"}
    assert {letter["original"]["topic"] for letter in letters} == {"progress.events"}
    sizes = _retry_and_dlq_sizes(lab)
    assert sizes.pop(DLQ_TOPIC) == len(poison)
    assert set(sizes.values()) == {0}
    assert metric(projector, "progress_projector_events_total", outcome="applied") == len(events)

"""Parking what the broker holds before it stops, and putting it back at the next start."""

from __future__ import annotations

import pytest

from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.parking import PUBLISH_CHUNK, park_unconsumed, republish_parked
from tests.contract.test_parked_messages import parked
from tests.fakes import InMemoryParkedMessages, InMemoryTopicBacklog

EVENTS, TIER = "progress.events", "progress.events.retry.60s"
SOURCES = [(EVENTS, "projector"), (TIER, "retry-60s")]


def broker_with(events: int, waiting: int, consumed: int) -> InMemoryTopicBacklog:
    """`events` on the events topic (the projector consumed `consumed`), `waiting` on a tier."""
    backlog = InMemoryTopicBacklog()
    backlog.topics[EVENTS] = [parked(f"demo/u{n}", n, EVENTS) for n in range(events)]
    backlog.topics[TIER] = [parked("demo/u1", 100 + n) for n in range(waiting)]
    backlog.committed[(EVENTS, "projector")] = consumed
    return backlog


async def test_only_what_no_consumer_committed_is_parked_and_parking_twice_keeps_it_once() -> None:
    backlog, store = broker_with(events=5, waiting=3, consumed=4), InMemoryParkedMessages()

    assert await park_unconsumed(backlog, store, SOURCES) == 4
    assert await park_unconsumed(backlog, store, SOURCES) == 0

    assert await store.all() == [*backlog.topics[EVENTS][4:], *backlog.topics[TIER]]


async def test_a_restart_puts_every_message_back_on_its_topic_headers_and_all() -> None:
    before, store = broker_with(events=2, waiting=3, consumed=1), InMemoryParkedMessages()
    await park_unconsumed(before, store, SOURCES)
    after = InMemoryTopicBacklog()  # the in-memory broker started empty

    assert await republish_parked(after, store) == 4

    assert after.topics == {EVENTS: before.topics[EVENTS][1:], TIER: before.topics[TIER]}
    assert await store.all() == []
    assert await republish_parked(after, store) == 0


async def test_any_number_of_stops_and_starts_loses_and_doubles_nothing() -> None:
    broker, store = broker_with(events=0, waiting=3, consumed=0), InMemoryParkedMessages()
    waiting = list(broker.topics[TIER])
    for _ in range(3):
        await park_unconsumed(broker, store, SOURCES)
        broker = InMemoryTopicBacklog()
        await republish_parked(broker, store)
    assert broker.topics[TIER] == waiting


async def test_an_outage_while_republishing_keeps_what_was_not_acknowledged() -> None:
    store = InMemoryParkedMessages()
    messages = [parked("demo/u1", n) for n in range(PUBLISH_CHUNK + 3)]
    await store.park(messages)
    broker = InMemoryTopicBacklog()
    broker.fail_after = PUBLISH_CHUNK + 1

    with pytest.raises(BrokerUnavailable):
        await republish_parked(broker, store)

    assert await store.all() == messages[PUBLISH_CHUNK:]
    broker.fail_after = None
    assert await republish_parked(broker, store) == 3
    published = broker.topics[TIER]
    assert set(published) == set(messages)  # the unacknowledged one again: at least once
    assert len(published) == len(messages) + 1


async def test_nothing_to_park_parks_nothing() -> None:
    store = InMemoryParkedMessages()
    assert await park_unconsumed(InMemoryTopicBacklog(), store, SOURCES) == 0
    assert await store.all() == []

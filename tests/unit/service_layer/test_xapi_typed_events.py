"""Statements reach ingest as typed events, with the times the JSON path gave them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain import ContentProgressed, EventsRetracted, validate_event
from shared.service_layer.ingest_results import Submission
from shared.xapi import MappingRules, derive_events, validate_statement
from tests.unit.service_layer.xapi_world import ID_1, ID_2, World, statement, voiding

pytestmark = pytest.mark.unit

_MICROSECONDS = "2026-11-20T09:59:58.123456Z"


def test_derived_events_are_typed_and_equal_what_ingest_parses_from_their_json() -> None:
    """Each typed event is the one validating its app-sent form gives (times in ms)."""
    body = statement(timestamp=_MICROSECONDS, result={"score": {"scaled": 0.5}})
    derived = derive_events(validate_statement({**body, "stored": _MICROSECONDS}), MappingRules())
    [event] = derived.progress_events
    assert isinstance(event, ContentProgressed)
    assert event.occurred_at == datetime(2026, 11, 20, 9, 59, 58, 123000, tzinfo=UTC)
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert [validate_event(raw, now=now) for raw in derived.events] == [event]


def test_a_built_submission_names_its_event_for_the_per_event_answer() -> None:
    [event] = derive_events(
        validate_statement({**statement(), "stored": _MICROSECONDS}), MappingRules()
    ).progress_events
    submitted = Submission("ana", built=event)
    assert (submitted.event_id, submitted.type_name) == (f"xapi:{ID_1}:content", event.type)


async def test_statements_and_voidings_publish_typed_events_cut_to_the_millisecond() -> None:
    world = World()
    world.clock.current = datetime(2026, 11, 20, 10, 0, 0, 987654, tzinfo=UTC)
    await world.post(statement(timestamp=_MICROSECONDS))
    await world.post(voiding(ID_2, ID_1))
    progressed, retracted = (batch[0] for batch in world.publisher.published)
    assert progressed.event.occurred_at == datetime(2026, 11, 20, 9, 59, 58, 123000, tzinfo=UTC)
    assert isinstance(retracted.event, EventsRetracted)
    assert retracted.event.occurred_at == datetime(2026, 11, 20, 10, 0, 1, 987000, tzinfo=UTC)

"""`Ingest.reset` and the one course-scope rule of resets, on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain import ContractViolation, parse_course
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.ingest import RESET_CLIENT, Ingest, Submission
from shared.service_layer.resets import UnknownCourse
from tests.fakes import (
    FixedClock,
    InMemoryCatalogStore,
    InMemoryPublisher,
    InMemorySnapshotStore,
    InMemoryTombstoneStore,
    consistency_over_fakes,
)

NOW = FixedClock().now()


class World:
    """An ingest over fakes whose catalog holds course `c1` (items `a`, `b`)."""

    def __init__(self) -> None:
        self.publisher, self.courses = InMemoryPublisher(), InMemoryCatalogStore()
        snapshots = InMemorySnapshotStore()
        consistency = consistency_over_fakes(snapshots)
        self.ingest = Ingest(
            self.publisher,
            InMemoryTombstoneStore(),
            snapshots,
            consistency=consistency,
            courses=self.courses,
        )

    async def with_course(self) -> World:
        items = [{"contentId": c, "kind": "step"} for c in ("a", "b")]
        await self.courses.put("demo", parse_course({"courseId": "c1", "items": items}))
        return self

    async def reset(self, **scope: Any) -> Any:
        arguments: dict[str, Any] = {"event_id": None, "course_id": None, "content_ids": None}
        return await self.ingest.reset(
            "demo", "u1", **{**arguments, **scope}, now=NOW, request_id="r-1"
        )

    def payloads(self) -> list[dict[str, Any]]:
        return [
            event.event.payload.model_dump(by_alias=True) for event, _ in self.publisher.published
        ]


async def test_a_reset_publishes_one_reset_event_at_the_given_time_with_a_token() -> None:
    world = World()
    result = await world.reset(event_id="key-1")
    [(event, request_id)] = world.publisher.published
    assert (event.event_id, event.type, request_id) == ("key-1", "progress.reset", "r-1")
    assert (event.event.occurred_at, event.received_at, event.event.client_id) == (
        NOW,
        NOW,
        RESET_CLIENT,
    )
    assert [(o.event_id, o.accepted) for o in result.outcomes] == [("key-1", True)]
    assert list(result.tokens) == [("demo", "u1")]
    fresh = await world.reset()
    assert fresh.outcomes[0].event_id != "key-1"
    assert (fresh.outcomes[0].event_id or "").startswith("reset-")


async def test_a_course_scope_becomes_the_courses_items_then_the_named_ones() -> None:
    world = await World().with_course()
    await world.reset(course_id="c1", content_ids=["b", "z"])
    [payload] = world.payloads()
    assert (payload["contentIds"], payload["courseId"]) == (["a", "b", "z"], "c1")


async def test_an_unknown_course_is_refused_by_one_error_and_nothing_is_sent() -> None:
    world = await World().with_course()
    with pytest.raises(UnknownCourse) as refused:
        await world.reset(course_id="nope")
    assert refused.value.course_id == "nope"
    assert world.publisher.published == []


async def test_a_sent_reset_naming_only_a_course_is_expanded_or_refused_by_the_same_rule() -> None:
    world = await World().with_course()
    sent = {"eventId": "r", "occurredAt": "2026-11-20T09:00:00Z", "clientId": "app"}
    known = {**sent, "type": "progress.reset", "payload": {"courseId": "c1"}}
    unknown = {**known, "eventId": "r-2", "payload": {"courseId": "nope"}}
    result = await world.ingest.submit(
        "demo", [Submission("u1", known), Submission("u1", unknown)], now=NOW, request_id="r-1"
    )
    assert [(o.accepted, o.code, o.field) for o in result.outcomes] == [
        (True, None, None),
        (False, "unknown_course", "payload"),
    ]
    assert result.outcomes[1].error == str(UnknownCourse("nope"))
    assert [p["contentIds"] for p in world.payloads()] == [["a", "b"]]


async def test_an_invalid_event_id_or_content_id_names_its_field_and_sends_nothing() -> None:
    world = World()
    with pytest.raises(ContractViolation) as bad_key:
        await world.reset(event_id="has space")
    assert bad_key.value.field == "eventId"
    with pytest.raises(ContractViolation) as bad_item:
        await world.reset(content_ids=["ok", "not ok"])
    assert (bad_item.value.field or "").startswith("payload.contentIds")
    assert world.publisher.published == []


async def test_a_reset_without_an_ack_raises_and_claims_nothing() -> None:
    world = World()
    world.publisher.unavailable = BrokerUnavailable("no ack")
    with pytest.raises(BrokerUnavailable):
        await world.reset(event_id="key-1")

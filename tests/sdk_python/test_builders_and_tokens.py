"""Event builders on the contract's models, time-ordered ids, and minted user tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from progress_sync_client import ContractViolation, EventBuilder, mint_user_token, new_event_id
from progress_sync_client.contract import ContentProgressed, ProgressEvent, Snapshot
from pydantic import TypeAdapter

_EVENT = TypeAdapter[ProgressEvent](ProgressEvent)


def test_builders_fill_in_id_time_and_client_and_use_the_contract_models() -> None:
    before = datetime.now(UTC)
    event = EventBuilder("backend-1").content_progressed(
        "lesson-1", "completed", score=90, interaction_id="q1", interaction_state={"kind": "quiz"}
    )
    assert isinstance(event, ContentProgressed)
    assert event.client_id == "backend-1"
    assert event.occurred_at >= before
    assert uuid.UUID(event.event_id).version == 7
    assert event.payload.interaction is not None
    assert event.payload.interaction.state == {"kind": "quiz"}


def test_a_bad_value_names_the_json_field() -> None:
    with pytest.raises(ContractViolation) as caught:
        EventBuilder("c").media_progressed("video 1", 10.0)
    assert caught.value.field == "payload.contentId"
    with pytest.raises(ContractViolation) as negative:
        EventBuilder("c").quiz_attempted("quiz-1", -1, 10, False)
    assert negative.value.field == "payload.score"


def test_event_ids_are_unique_and_sort_by_creation() -> None:
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_minted_token_verifies_as_hs256_with_the_servers_claims() -> None:
    token = mint_user_token(
        "s3cret-of-at-least-thirty-two-bytes!", "demo", "u1", timedelta(minutes=5)
    )
    claims = jwt.decode(
        token,
        "s3cret-of-at-least-thirty-two-bytes!",
        algorithms=["HS256"],
        options={"require": ["exp", "iat"]},
    )
    assert claims["sub"] == "u1"
    assert claims["tid"] == "demo"
    assert claims["exp"] - claims["iat"] == 300
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "other-secret-of-at-least-thirty-two-bytes", algorithms=["HS256"])
    with pytest.raises(ValueError, match="ttl"):
        mint_user_token("s", "demo", "u1", 0)


def test_every_typed_builder_carries_extensions() -> None:
    builder, extensions = EventBuilder("c"), {"lms": {"attempt": 2}}
    events = [
        builder.content_progressed("a", "completed", extensions=extensions),
        builder.media_progressed("v", 10.0, extensions=extensions),
        builder.quiz_attempted("q", 8, 10, True, extensions=extensions),
        builder.content_rated("a", "easy", extensions=extensions),
        builder.content_scheduled("a", None, extensions=extensions),
        builder.course_completed("c1", extensions=extensions),
        builder.onboarding_completed("p1", extensions=extensions),
        builder.onboarding_reset(extensions=extensions),
        builder.active_path_set("p1", extensions=extensions),
        builder.progress_reset(extensions=extensions),
    ]
    typed = [name for name in vars(EventBuilder) if not name.startswith("_") and name != "event"]
    assert len(events) == len(typed) == 10
    assert all(event.payload.extensions == extensions for event in events)
    with pytest.raises(ContractViolation) as too_big:
        builder.content_rated("a", "easy", extensions={"blob": "x" * 5000})
    assert too_big.value.field == "payload.extensions"


def test_a_reset_may_name_a_course_or_items_and_keeps_its_idempotency_key() -> None:
    builder = EventBuilder("c")
    course = builder.event("progress.reset", {"courseId": "course-1"}, event_id="reset-1")
    assert _EVENT.dump_python(course, mode="json", by_alias=True)["payload"] == {
        "courseId": "course-1"
    }
    assert course.event_id == "reset-1"
    scoped = builder.progress_reset(course_id="course-1", event_id="reset-2")
    assert _EVENT.dump_python(scoped, mode="json", by_alias=True)["payload"] == {
        "courseId": "course-1"
    }
    items = builder.progress_reset(content_ids=["a", "b"])
    assert items.payload.content_ids == ["a", "b"]
    with pytest.raises(ContractViolation) as bad:
        builder.progress_reset(course_id="course 1")
    assert bad.value.field == "payload.courseId"


def test_a_snapshot_item_dumps_like_the_snapshot() -> None:
    """Issue 25: items were dataclasses without `model_dump` inside the pydantic snapshot."""
    snapshot = Snapshot.model_validate(
        {"tenantId": "t", "userId": "u", "items": {"a": {"status": "completed"}}}
    )
    assert snapshot.items["a"].model_dump(mode="json", exclude_none=True) == {"status": "completed"}

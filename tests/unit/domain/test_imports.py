"""Legacy state import: a saved state becomes events that reduce back to it, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain import ContractViolation, events_from_state, parse_state, reduce
from tests.unit.domain.builders import FAR_FUTURE, record

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

SAVED = {
    "items": {
        "ch-1": {"status": "completed", "completedAt": "2026-11-01T10:00:00Z", "score": 80},
        "video-1": {
            "status": "in_progress",
            "media": {
                "lastPosition": 40,
                "maxPosition": 120,
                "duration": 300,
                "watchedSeconds": 130,
            },
        },
        "quiz-1": {
            "status": "passed",
            "lastAttemptAt": "2026-11-02T10:00:00Z",
            "quiz": {"attempts": 3, "bestScore": 9, "lastScore": 7, "maxScore": 10},
            "interactions": {"q1": {"choice": "b"}},
        },
        "w1d3": {"rating": "hard", "scheduledFor": "2026-11-24"},
    },
    "courses": {"py": {"completedAt": "2026-11-03T10:00:00Z"}},
    "onboarding": {"completed": True, "pathId": "frontend", "completedAt": "2026-10-30T09:00:00Z"},
    "activePathId": "frontend",
    "extensions": {"theme": "dark"},
}


def imported(state: dict[str, object], user: str = "u1"):
    raws = events_from_state(parse_state(state), user_id=user, as_of=AS_OF)
    return [record(raw, user=user) for raw in raws]


def test_a_saved_state_reduces_back_to_itself() -> None:
    snapshot = reduce(imported(SAVED), tenant_id="demo", user_id="u1").to_api()
    items = snapshot["items"]
    assert items["ch-1"]["status"] == "completed"
    assert items["ch-1"]["completedAt"] == "2026-11-01T10:00:00Z"
    assert items["ch-1"]["score"] == 80
    media = items["video-1"]["media"]
    assert (media["lastPosition"], media["maxPosition"], media["watchedSeconds"]) == (40, 120, 130)
    quiz = items["quiz-1"]["quiz"]
    assert (quiz["attempts"], quiz["bestScore"], quiz["lastScore"]) == (3, 9, 7)
    assert items["quiz-1"]["status"] == "passed"
    assert items["quiz-1"]["interactions"] == {"q1": {"choice": "b"}}
    assert (items["w1d3"]["rating"], items["w1d3"]["scheduledFor"]) == ("hard", "2026-11-24")
    assert snapshot["courses"]["py"]["completedAt"] == "2026-11-03T10:00:00Z"
    assert snapshot["onboarding"]["pathId"] == "frontend"
    assert snapshot["activePathId"] == "frontend"
    assert snapshot["extensions"] == {"theme": "dark"}


def test_ids_are_fixed_per_user_item_and_field() -> None:
    first = [e.event_id for e in imported(SAVED)]
    assert first == [e.event_id for e in imported(SAVED)]
    assert len(set(first)) == len(first)
    assert not set(first) & {e.event_id for e in imported(SAVED, user="u2")}
    snapshot = reduce([*imported(SAVED), *imported(SAVED)], tenant_id="demo", user_id="u1")
    assert snapshot == reduce(imported(SAVED), tenant_id="demo", user_id="u1")


def test_a_bad_state_names_the_field() -> None:
    with pytest.raises(ContractViolation) as raised:
        parse_state({"items": {"x": {"status": "done"}}})
    assert raised.value.field == "state.items.x.status"
    with pytest.raises(ContractViolation) as raised:
        parse_state({"items": {"x": {"colour": "red"}}})
    assert raised.value.field == "state.items.x.colour"
    assert FAR_FUTURE > AS_OF

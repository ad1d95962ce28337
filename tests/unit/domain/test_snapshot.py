"""The snapshot's API shape (DESIGN's JSON example) and its storage round trip."""

from __future__ import annotations

import json

from shared.domain import Snapshot

from .builders import Log


def design_example_log() -> Log:
    """Events that produce every part of DESIGN's snapshot example."""
    log = Log()
    log.add("onboarding.completed", "2026-11-16T08:00:00Z", {"pathId": "p1"})
    log.add("activePath.set", "2026-11-16T08:00:01Z", {"pathId": "p1"})
    log.add(
        "content.progressed", "2026-11-17T09:00:00Z", {"contentId": "warmup", "status": "completed"}
    )
    log.add(
        "content.progressed",
        "2026-11-18T09:00:00Z",
        {"contentId": "lesson-1", "status": "in_progress"},
    )
    log.add(
        "media.progressed",
        "2026-11-18T09:05:00Z",
        {
            "contentId": "lesson-1",
            "positionSeconds": 300.0,
            "durationSeconds": 320.0,
            "watchedSeconds": 290.0,
        },
    )
    log.add(
        "media.progressed",
        "2026-11-18T09:06:00Z",
        {"contentId": "lesson-1", "positionSeconds": 120.0},
    )
    log.add(
        "quiz.attempted",
        "2026-11-19T09:00:00Z",
        {"contentId": "lesson-1", "score": 6, "maxScore": 10, "passed": False},
    )
    log.add(
        "quiz.attempted",
        "2026-11-20T09:00:00Z",
        {"contentId": "lesson-1", "score": 8, "maxScore": 10, "passed": False},
    )
    log.add(
        "content.progressed",
        "2026-11-20T09:01:00Z",
        {
            "contentId": "lesson-1",
            "status": "completed",
            "score": 90,
            "contentVersion": "v1",
            "courseId": "c1",
            "interaction": {
                "interactionId": "q-1",
                "state": {"kind": "quiz", "selectedOptionId": "c"},
            },
        },
    )
    log.add("content.rated", "2026-11-20T09:02:00Z", {"contentId": "lesson-1", "rating": "perfect"})
    log.add(
        "content.scheduled",
        "2026-11-20T09:03:00Z",
        {"contentId": "lesson-1", "scheduledFor": "2026-01-28"},
    )
    log.add("course.completed", "2026-11-20T09:04:00Z", {"courseId": "c1"})
    return log


def test_to_api_has_exactly_the_design_shape() -> None:
    assert design_example_log().snapshot().to_api() == {
        "tenantId": "demo",
        "userId": "u1",
        "items": {
            "warmup": {
                "status": "completed",
                "completedAt": "2026-11-17T09:00:00Z",
                "lastAttemptAt": "2026-11-17T09:00:00Z",
            },
            "lesson-1": {
                "status": "completed",
                "score": 90,
                "contentVersion": "v1",
                "courseId": "c1",
                "completedAt": "2026-11-18T09:05:00Z",  # 300 of 320 seconds watched
                "lastAttemptAt": "2026-11-20T09:01:00Z",
                "interactions": {"q-1": {"kind": "quiz", "selectedOptionId": "c"}},
                "media": {
                    "lastPosition": 120.0,
                    "maxPosition": 300.0,
                    "duration": 320.0,
                    "watchedSeconds": 290.0,
                },
                "quiz": {"attempts": 2, "bestScore": 8, "lastScore": 8, "maxScore": 10},
                "rating": "perfect",
                "scheduledFor": "2026-01-28",
            },
        },
        "courses": {"c1": {"completedAt": "2026-11-20T09:04:00Z"}},
        "onboarding": {"completed": True, "pathId": "p1", "completedAt": "2026-11-16T08:00:00Z"},
        "activePathId": "p1",
        "streak": {"current": 2, "longest": 2, "lastActiveDate": "2026-11-18"},
        "lastUpdated": "2026-11-20T09:04:00Z",
        "eventCount": 12,
    }


def test_api_json_is_serialisable_and_has_no_bookkeeping() -> None:
    shown = design_example_log().snapshot().to_api()
    assert "lastEventId" not in json.dumps(shown)


def test_storage_round_trip_keeps_bookkeeping_and_odd_ids() -> None:
    log = design_example_log()
    log.add(
        "content.progressed",
        "2026-11-21T10:00:00Z",
        {"contentId": "$where", "status": "passed", "courseId": "a.b"},
    )
    log.add("content.rated", "2026-11-21T10:00:01Z", {"contentId": "a.b", "rating": "hard"})
    snapshot = log.snapshot()
    stored = snapshot.to_storage()
    assert stored == json.dumps(json.loads(stored), separators=(",", ":"))  # compact
    restored = Snapshot.from_storage(stored)
    assert restored == snapshot
    assert restored.last_key == snapshot.last_key == (snapshot.last_updated, "e-14")
    assert json.dumps(restored.to_api()) == json.dumps(snapshot.to_api())  # 90 stays 90
    assert set(restored.items) == {"warmup", "lesson-1", "$where", "a.b"}


def test_equal_events_give_equal_snapshots() -> None:
    assert design_example_log().snapshot() == design_example_log().snapshot()
    other = design_example_log()
    other.add("content.rated", "2026-11-21T10:00:00Z", {"contentId": "warmup", "rating": "easy"})
    assert other.snapshot() != design_example_log().snapshot()


def test_sums_beyond_the_per_event_bound_still_round_trip() -> None:
    log = Log()
    for minute in range(3):
        payload = {"contentId": "v", "positionSeconds": 1, "watchedSeconds": 1_000_000_000}
        log.add("media.progressed", f"2026-01-05T10:0{minute}:00Z", payload)
    snapshot = log.snapshot()
    assert snapshot.items["v"].media.watched_seconds == 3_000_000_000  # type: ignore[union-attr]
    assert Snapshot.from_storage(snapshot.to_storage()) == snapshot


def test_each_part_dumps_as_the_whole_snapshot_dumps_it() -> None:
    """Issue 25: an item taken out of a snapshot has `model_dump` too, with the same keys."""
    snapshot = design_example_log().snapshot()
    whole = snapshot.model_dump(mode="json", by_alias=True)
    for content_id, item in snapshot.items.items():
        assert item.model_dump(mode="json", by_alias=True) == whole["items"][content_id]
    assert snapshot.streak is not None
    assert snapshot.streak.model_dump(mode="json", by_alias=True) == whole["streak"]

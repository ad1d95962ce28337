"""DESIGN's reduction table, one rule at a time."""

from __future__ import annotations

import pickle

import pytest

from shared.domain import LateEvent, Snapshot, apply, dedupe, reduce

from .builders import TENANT, USER, Log, raw_event, record


def test_no_events_give_the_empty_snapshot() -> None:
    assert reduce([], tenant_id=TENANT, user_id=USER) == Snapshot.empty(TENANT, USER)
    assert Snapshot.empty(TENANT, USER).to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": {},
        "courses": {},
        "eventCount": 0,
    }
    assert Snapshot.empty(TENANT, USER).last_key is None


def test_content_status_never_regresses_and_score_is_the_maximum() -> None:
    log = Log()
    log.add(
        "content.progressed",
        "2026-01-05T10:00:00Z",
        {"contentId": "c", "status": "in_progress", "score": 40},
    )
    log.add(
        "content.progressed",
        "2026-01-05T11:00:00Z",
        {"contentId": "c", "status": "passed", "score": 90, "contentVersion": "v1"},
    )
    log.add(
        "content.progressed",
        "2026-01-05T12:00:00Z",
        {"contentId": "c", "status": "completed", "score": 70, "courseId": "k"},
    )
    log.add(
        "content.progressed",
        "2026-01-06T09:00:00Z",
        {"contentId": "c", "status": "in_progress", "contentVersion": "v2"},
    )
    assert log.snapshot().to_api()["items"]["c"] == {
        "status": "passed",
        "score": 90,
        "contentVersion": "v2",
        "courseId": "k",
        "completedAt": "2026-01-05T11:00:00Z",
        "lastAttemptAt": "2026-01-06T09:00:00Z",
    }


def test_completed_then_passed_keeps_the_first_completion_time() -> None:
    log = Log()
    log.add("content.progressed", "2026-01-05T10:00:00Z", {"contentId": "c", "status": "completed"})
    log.add("content.progressed", "2026-01-07T10:00:00Z", {"contentId": "c", "status": "passed"})
    item = log.snapshot().items["c"]
    assert (item.status, item.completed_at.isoformat()) == ("passed", "2026-01-05T10:00:00+00:00")  # type: ignore[union-attr]
    assert log.snapshot().streak.current == 1  # type: ignore[union-attr]


def test_interaction_state_is_set_replaced_and_removed() -> None:
    log = Log()

    def answer(when: str, interaction_id: str, state: object) -> None:
        interaction = {"interactionId": interaction_id, "state": state}
        log.add(
            "content.progressed",
            when,
            {"contentId": "c", "status": "in_progress", "interaction": interaction},
        )

    answer("2026-01-05T10:00:00Z", "q1", {"kind": "quiz", "selectedOptionId": "a"})
    answer("2026-01-05T10:01:00Z", "q2", {"kind": "quiz", "selectedOptionId": None})
    answer("2026-01-05T10:02:00Z", "q1", {"kind": "quiz", "selectedOptionId": "c"})
    assert log.snapshot().to_api()["items"]["c"]["interactions"] == {
        "q1": {"kind": "quiz", "selectedOptionId": "c"},
        "q2": {"kind": "quiz", "selectedOptionId": None},
    }
    answer("2026-01-05T10:03:00Z", "q2", None)
    answer("2026-01-05T10:04:00Z", "q3", None)
    assert log.snapshot().to_api()["items"]["c"]["interactions"] == {
        "q1": {"kind": "quiz", "selectedOptionId": "c"}
    }
    answer("2026-01-05T10:05:00Z", "q1", None)
    assert "interactions" not in log.snapshot().to_api()["items"]["c"]


def test_media_positions_sum_and_completion_at_ninety_percent() -> None:
    log = Log()
    log.add(
        "media.progressed",
        "2026-01-05T10:00:00Z",
        {"contentId": "v", "positionSeconds": 100, "watchedSeconds": 100},
    )
    item = log.snapshot().to_api()["items"]["v"]
    assert item == {
        "status": "in_progress",
        "media": {"lastPosition": 100, "maxPosition": 100, "watchedSeconds": 100},
    }
    log.add(
        "media.progressed",
        "2026-01-05T10:05:00Z",
        {
            "contentId": "v",
            "positionSeconds": 250,
            "durationSeconds": 300,
            "watchedSeconds": 150,
            "courseId": "k",
        },
    )
    log.add("media.progressed", "2026-01-05T10:06:00Z", {"contentId": "v", "positionSeconds": 20})
    item = log.snapshot().to_api()["items"]["v"]
    assert item["status"] == "in_progress"  # 250 < 270
    assert item["media"] == {
        "lastPosition": 20,
        "maxPosition": 250,
        "duration": 300,
        "watchedSeconds": 250,
    }
    assert item["courseId"] == "k"
    log.add(
        "media.progressed",
        "2026-01-05T10:09:00Z",
        {"contentId": "v", "positionSeconds": 270, "watchedSeconds": 20.5},
    )
    item = log.snapshot().to_api()["items"]["v"]
    assert (item["status"], item["completedAt"]) == ("completed", "2026-01-05T10:09:00Z")
    assert item["media"]["watchedSeconds"] == 270.5
    assert "lastAttemptAt" not in item


def test_media_never_completes_without_a_duration() -> None:
    log = Log()
    log.add("media.progressed", "2026-01-05T10:00:00Z", {"contentId": "v", "positionSeconds": 5000})
    log.add(
        "media.progressed",
        "2026-01-05T10:01:00Z",
        {"contentId": "v", "positionSeconds": 0, "durationSeconds": 0},
    )
    assert log.snapshot().items["v"].status == "in_progress"


def test_media_completion_uses_the_latest_duration() -> None:
    log = Log()
    log.add(
        "media.progressed",
        "2026-01-05T10:00:00Z",
        {"contentId": "v", "positionSeconds": 100, "durationSeconds": 600},
    )
    log.add(
        "media.progressed",
        "2026-01-05T10:01:00Z",
        {"contentId": "v", "positionSeconds": 10, "durationSeconds": 110},
    )
    assert log.snapshot().items["v"].status == "completed"


def test_quiz_attempts_best_last_and_passed() -> None:
    log = Log()
    log.add(
        "quiz.attempted",
        "2026-01-05T10:00:00Z",
        {"contentId": "q", "score": 6, "maxScore": 10, "passed": False},
    )
    item = log.snapshot().to_api()["items"]["q"]
    assert item == {
        "status": "in_progress",
        "lastAttemptAt": "2026-01-05T10:00:00Z",
        "quiz": {"attempts": 1, "bestScore": 6, "lastScore": 6, "maxScore": 10},
    }
    log.add(
        "quiz.attempted",
        "2026-01-05T10:10:00Z",
        {"contentId": "q", "score": 9, "maxScore": 10, "passed": True},
    )
    log.add(
        "quiz.attempted",
        "2026-01-05T10:20:00Z",
        {"contentId": "q", "score": 7, "maxScore": 12, "passed": False},
    )
    item = log.snapshot().to_api()["items"]["q"]
    assert item == {
        "status": "passed",
        "completedAt": "2026-01-05T10:10:00Z",
        "lastAttemptAt": "2026-01-05T10:20:00Z",
        "quiz": {"attempts": 3, "bestScore": 9, "lastScore": 7, "maxScore": 12},
    }


def test_rating_and_schedule_are_the_latest_by_occurred_at() -> None:
    log = Log()
    log.add("content.rated", "2026-01-05T12:00:00Z", {"contentId": "w", "rating": "hard"})
    log.add(
        "content.rated", "2026-01-05T11:00:00Z", {"contentId": "w", "rating": "easy"}
    )  # older, arrives later
    log.add(
        "content.scheduled",
        "2026-01-05T09:00:00Z",
        {"contentId": "w", "scheduledFor": "2026-01-10"},
    )
    assert log.snapshot().to_api()["items"]["w"] == {
        "status": "not_started",
        "rating": "hard",
        "scheduledFor": "2026-01-10",
    }
    log.add("content.scheduled", "2026-01-05T09:30:00Z", {"contentId": "w", "scheduledFor": None})
    assert "scheduledFor" not in log.snapshot().to_api()["items"]["w"]


def test_courses_onboarding_and_active_path() -> None:
    log = Log()
    log.add("course.completed", "2026-01-05T10:00:00Z", {"courseId": "k"})
    log.add("course.completed", "2026-01-06T10:00:00Z", {"courseId": "k"})
    log.add("onboarding.completed", "2026-01-05T08:00:00Z", {"pathId": "p1"})
    log.add("activePath.set", "2026-01-05T08:01:00Z", {"pathId": "p1"})
    shown = log.snapshot().to_api()
    assert shown["courses"] == {"k": {"completedAt": "2026-01-05T10:00:00Z"}}
    assert shown["onboarding"] == {
        "completed": True,
        "pathId": "p1",
        "completedAt": "2026-01-05T08:00:00Z",
    }
    assert shown["activePathId"] == "p1"
    log.add("onboarding.reset", "2026-01-06T08:00:00Z")
    log.add("activePath.set", "2026-01-06T08:01:00Z", {"pathId": None})
    shown = log.snapshot().to_api()
    assert shown["onboarding"] == {"completed": False}
    assert "activePathId" not in shown


def test_streak_counts_consecutive_utc_days_of_completions() -> None:
    log = Log()

    def complete(content_id: str, when: str) -> None:
        log.add("content.progressed", when, {"contentId": content_id, "status": "completed"})

    complete("a", "2026-01-05T23:30:00-02:00")  # 2026-01-06 in UTC
    complete("b", "2026-01-06T10:00:00Z")
    complete("b", "2026-01-07T10:00:00Z")  # no transition: not an active day
    complete("c", "2026-01-08T10:00:00Z")
    complete("d", "2026-01-09T00:00:00Z")
    complete("e", "2026-01-10T23:59:59Z")
    assert log.snapshot().to_api()["streak"] == {
        "current": 3,
        "longest": 3,
        "lastActiveDate": "2026-01-10",
    }
    complete("f", "2026-01-12T08:00:00Z")
    assert log.snapshot().to_api()["streak"] == {
        "current": 1,
        "longest": 3,
        "lastActiveDate": "2026-01-12",
    }


def test_reset_clears_everything_but_the_counters() -> None:
    log = Log()
    log.add("content.progressed", "2026-01-05T10:00:00Z", {"contentId": "c", "status": "completed"})
    log.add("course.completed", "2026-01-05T10:00:00Z", {"courseId": "k"})
    log.add("onboarding.completed", "2026-01-05T10:00:00Z", {"pathId": "p"})
    log.add("activePath.set", "2026-01-05T10:00:00Z", {"pathId": "p"})
    log.add("progress.reset", "2026-01-05T11:00:00Z")
    assert log.snapshot().to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": {},
        "courses": {},
        "lastUpdated": "2026-01-05T11:00:00Z",
        "eventCount": 5,
    }
    log.add(
        "content.rated", "2026-01-05T10:30:00Z", {"contentId": "c", "rating": "ok"}
    )  # before the reset
    log.add("content.rated", "2026-01-05T11:30:00Z", {"contentId": "d", "rating": "ok"})
    shown = log.snapshot().to_api()
    assert shown["items"] == {"d": {"status": "not_started", "rating": "ok"}}
    assert (shown["eventCount"], shown["lastUpdated"]) == (7, "2026-01-05T11:30:00Z")


def test_ties_on_occurred_at_are_broken_by_event_id() -> None:
    first = record(
        raw_event(
            "content.rated",
            "2026-01-05T10:00:00Z",
            {"contentId": "w", "rating": "easy"},
            event_id="b",
        )
    )
    second = record(
        raw_event(
            "content.rated",
            "2026-01-05T10:00:00Z",
            {"contentId": "w", "rating": "hard"},
            event_id="a",
        )
    )
    for log in ([first, second], [second, first]):
        assert reduce(log, tenant_id=TENANT, user_id=USER).items["w"].rating == "easy"


def test_dedupe_counts_repeats_and_conflicts() -> None:
    kept = record(
        raw_event(
            "content.rated",
            "2026-01-05T10:00:00Z",
            {"contentId": "w", "rating": "easy"},
            event_id="x",
        )
    )
    repeat = record(kept.event.model_dump(by_alias=True), received_at="2026-01-05T12:00:00Z")
    conflict = record(
        raw_event(
            "content.rated",
            "2026-01-05T10:00:00Z",
            {"contentId": "w", "rating": "hard"},
            event_id="x",
        )
    )
    other = record(
        raw_event(
            "content.rated",
            "2026-01-05T09:00:00Z",
            {"contentId": "v", "rating": "ok"},
            event_id="y",
        )
    )
    result = dedupe([kept, repeat, other, conflict, kept])
    assert result.unique == [kept, other]
    assert result.repeats == 2
    assert result.conflicts == [(kept, conflict)]
    # First stored wins, in whichever order the rest arrives.
    assert reduce([kept, conflict], tenant_id=TENANT, user_id=USER).items["w"].rating == "easy"
    assert reduce([conflict, kept], tenant_id=TENANT, user_id=USER).items["w"].rating == "hard"


def test_apply_refuses_late_and_repeated_events_and_leaves_the_input_alone() -> None:
    log = Log()
    log.add(
        "content.progressed", "2026-01-05T10:00:00Z", {"contentId": "c", "status": "in_progress"}
    )
    base = log.snapshot()
    stored = base.to_storage()
    with pytest.raises(LateEvent) as raised:
        apply(base, [log.events[0]])  # the same sort key again
    assert raised.value.event_id == "e-1"
    assert pickle.loads(pickle.dumps(raised.value)).event_id == "e-1"
    assert "'e-1'" in str(raised.value)
    later = record(
        raw_event(
            "content.progressed",
            "2026-01-05T11:00:00Z",
            {"contentId": "c", "status": "completed"},
            event_id="e-2",
        )
    )
    result = apply(base, [later, later])
    assert result.items["c"].status == "completed"
    assert result.event_count == 2
    assert base.to_storage() == stored
    assert base.items["c"].status == "in_progress"
    assert apply(base, []) is base


def test_apply_shares_untouched_items() -> None:
    log = Log()
    log.add("content.rated", "2026-01-05T10:00:00Z", {"contentId": "a", "rating": "ok"})
    log.add("content.rated", "2026-01-05T10:00:01Z", {"contentId": "b", "rating": "ok"})
    base = log.snapshot()
    later = record(
        raw_event(
            "content.rated",
            "2026-01-05T11:00:00Z",
            {"contentId": "a", "rating": "meh"},
            event_id="e-3",
        )
    )
    result = apply(base, [later])
    assert result.items["b"] is base.items["b"]
    assert result.items["a"] is not base.items["a"]
    assert base.items["a"].rating == "ok"

"""The five reference apps' flows (/work/shared/reference), replayed as events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain import LateEvent, RecordedEvent, Snapshot, apply, new_reset_event, reduce

from .builders import TENANT, USER, Log


def fold(events: list[RecordedEvent]) -> Snapshot:
    return reduce(events, tenant_id=TENANT, user_id=USER)


def test_algorithm_workflow_steps() -> None:
    """ProgressTracker.markStepComplete, debounced into one sync, retried after a failure."""
    log = Log(client_id="student-123-browser")

    def step(name: str, when: str) -> RecordedEvent:
        payload = {
            "contentId": f"linear_regression.{name}",
            "status": "completed",
            "courseId": "linear_regression",
        }
        return log.add("content.progressed", when, payload)

    batch = [
        step("theory", "2026-01-05T10:00:00Z"),
        step("dataset", "2026-01-05T10:00:00.200Z"),
        step("eda", "2026-01-05T10:00:00.400Z"),
    ]
    retried = [*log.events, *batch]  # the failed sync is sent again
    step("feature_engineering", "2026-01-06T09:00:00Z")
    retried.append(log.events[-1])

    def done(when: str) -> dict[str, str]:
        return {
            "status": "completed",
            "courseId": "linear_regression",
            "completedAt": when,
            "lastAttemptAt": when,
        }

    expected = {
        "tenantId": TENANT,
        "userId": USER,
        "items": {
            "linear_regression.theory": done("2026-01-05T10:00:00Z"),
            "linear_regression.dataset": done("2026-01-05T10:00:00.200000Z"),
            "linear_regression.eda": done("2026-01-05T10:00:00.400000Z"),
            "linear_regression.feature_engineering": done("2026-01-06T09:00:00Z"),
        },
        "courses": {},
        "streak": {"current": 2, "longest": 2, "lastActiveDate": "2026-01-06"},
        "lastUpdated": "2026-01-06T09:00:00Z",
        "eventCount": 4,
    }
    assert log.snapshot().to_api() == expected
    assert fold(retried).to_api() == expected


def test_tutorial_chapters_quiz_and_certificate() -> None:
    """Chapter watch time and position, a quiz failed then passed, the tutorial completed."""
    log = Log(client_id="tutorial-web")
    chapter = {"courseId": "tut-42"}
    log.add(
        "media.progressed",
        "2026-01-19T10:05:00Z",
        {
            "contentId": "tut-42.ch1",
            "positionSeconds": 300,
            "durationSeconds": 600,
            "watchedSeconds": 300,
            **chapter,
        },
    )
    log.add(
        "media.progressed",
        "2026-01-19T10:10:00Z",
        {
            "contentId": "tut-42.ch1",
            "positionSeconds": 560,
            "durationSeconds": 600,
            "watchedSeconds": 260,
            **chapter,
        },
    )
    log.add(
        "media.progressed",
        "2026-01-19T10:20:00Z",
        {
            "contentId": "tut-42.ch2",
            "positionSeconds": 120,
            "durationSeconds": 400,
            "watchedSeconds": 120,
            **chapter,
        },
    )
    log.add(
        "quiz.attempted",
        "2026-01-19T10:30:00Z",
        {"contentId": "tut-42.quiz", "score": 5, "maxScore": 10, "passed": False, **chapter},
    )
    log.add(
        "quiz.attempted",
        "2026-01-20T08:00:00Z",
        {"contentId": "tut-42.quiz", "score": 8, "maxScore": 10, "passed": True, **chapter},
    )
    log.add("course.completed", "2026-01-20T08:01:00Z", {"courseId": "tut-42"})
    assert log.snapshot().to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": {
            "tut-42.ch1": {
                "status": "completed",
                "courseId": "tut-42",
                "completedAt": "2026-01-19T10:10:00Z",
                "media": {
                    "lastPosition": 560,
                    "maxPosition": 560,
                    "duration": 600,
                    "watchedSeconds": 560,
                },
            },
            "tut-42.ch2": {
                "status": "in_progress",
                "courseId": "tut-42",
                "media": {
                    "lastPosition": 120,
                    "maxPosition": 120,
                    "duration": 400,
                    "watchedSeconds": 120,
                },
            },
            "tut-42.quiz": {
                "status": "passed",
                "courseId": "tut-42",
                "completedAt": "2026-01-20T08:00:00Z",
                "lastAttemptAt": "2026-01-20T08:00:00Z",
                "quiz": {"attempts": 2, "bestScore": 8, "lastScore": 8, "maxScore": 10},
            },
        },
        "courses": {"tut-42": {"completedAt": "2026-01-20T08:01:00Z"}},
        "streak": {"current": 2, "longest": 2, "lastActiveDate": "2026-01-20"},
        "lastUpdated": "2026-01-20T08:01:00Z",
        "eventCount": 6,
    }
    # resetProgress(): DELETE /progress appends a reset; the history stays in the log.
    reset_at = datetime(2026, 1, 21, 9, 0, tzinfo=UTC)
    reset = new_reset_event(event_id="reset-1", occurred_at=reset_at, client_id="gateway")
    recorded = RecordedEvent(tenant_id=TENANT, user_id=USER, received_at=reset_at, event=reset)
    after = apply(log.snapshot(), [recorded])
    assert after == fold([*log.events, recorded])
    assert after.to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": {},
        "courses": {},
        "lastUpdated": "2026-01-21T09:00:00Z",
        "eventCount": 7,
    }


def test_learning_progress_guest_login_merge_and_re_onboarding() -> None:
    """Guest events merged into the account on login; onboarding redone as a guest after logout."""
    guest = Log(client_id="guest-browser", prefix="guest")
    account = Log(client_id="phone", prefix="phone")
    quiz = {
        "interactionId": "pattern-recognition-quiz",
        "state": {"kind": "quiz", "selectedOptionId": "c"},
    }
    guest.add("onboarding.completed", "2025-12-22T20:30:00Z", {"pathId": "p1"})
    guest.add("activePath.set", "2025-12-22T20:30:01Z", {"pathId": "p1"})
    guest.add(
        "content.progressed",
        "2025-12-22T20:36:50.595Z",
        {
            "contentId": "promises-vs-reality",
            "status": "passed",
            "score": 100,
            "contentVersion": "v1",
            "interaction": quiz,
        },
    )
    account.add(
        "content.progressed",
        "2025-12-21T09:00:00Z",
        {"contentId": "promises-vs-reality", "status": "in_progress", "score": 40},
    )
    account.add(
        "content.progressed",
        "2025-12-23T09:00:00Z",
        {
            "contentId": "async-basics",
            "status": "in_progress",
            "interaction": {**quiz, "interactionId": "await-quiz"},
        },
    )
    account.add(
        "content.progressed",
        "2025-12-23T09:05:00Z",
        {
            "contentId": "async-basics",
            "status": "in_progress",
            "interaction": {"interactionId": "await-quiz", "state": None},
        },
    )

    # Login: set union by eventId. The account log already holds a copy of one guest event
    # (a previous, interrupted sync), and the guest log is pushed twice.
    merged = [*account.events, guest.events[0], *guest.events, *guest.events]
    expected_items = {
        "promises-vs-reality": {
            "status": "passed",
            "score": 100,
            "contentVersion": "v1",
            "completedAt": "2025-12-22T20:36:50.595000Z",
            "lastAttemptAt": "2025-12-22T20:36:50.595000Z",
            "interactions": {"pattern-recognition-quiz": {"kind": "quiz", "selectedOptionId": "c"}},
        },
        "async-basics": {"status": "in_progress", "lastAttemptAt": "2025-12-23T09:05:00Z"},
    }
    assert fold(merged).to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": expected_items,
        "courses": {},
        "onboarding": {"completed": True, "pathId": "p1", "completedAt": "2025-12-22T20:30:00Z"},
        "activePathId": "p1",
        "streak": {"current": 1, "longest": 1, "lastActiveDate": "2025-12-22"},
        "lastUpdated": "2025-12-23T09:05:00Z",
        "eventCount": 6,
    }

    # Logout, onboarding reset on the phone, then onboarding redone as a guest on path p2.
    account.add("onboarding.reset", "2025-12-24T08:00:00Z")
    second_guest = Log(client_id="guest-browser", prefix="guest2")
    second_guest.add("onboarding.completed", "2025-12-24T09:00:00Z", {"pathId": "p2"})
    second_guest.add("activePath.set", "2025-12-24T09:00:01Z", {"pathId": "p2"})
    relogin = [*account.events, *guest.events, *second_guest.events]
    shown = fold(relogin).to_api()
    assert shown["onboarding"] == {
        "completed": True,
        "pathId": "p2",
        "completedAt": "2025-12-24T09:00:00Z",
    }
    assert shown["activePathId"] == "p2"
    assert shown["items"] == expected_items
    assert shown["eventCount"] == 9

    # Had the guest onboarding happened before the reset, the reset (latest) would win.
    stale_guest = Log(client_id="guest-browser", prefix="guest3")
    stale_guest.add("onboarding.completed", "2025-12-24T07:00:00Z", {"pathId": "p2"})
    assert fold([*account.events, *guest.events, *stale_guest.events]).to_api()["onboarding"] == {
        "completed": False
    }


def test_workout_completion_intensity_and_rescheduling() -> None:
    """completeSession with intensity rating, schedule cascade, a late offline rating."""
    log = Log(client_id="workout-web")
    log.add(
        "content.scheduled",
        "2026-01-20T18:00:00Z",
        {"contentId": "prog-1.w1.d3", "scheduledFor": "2026-01-28"},
    )
    log.add(
        "content.scheduled",
        "2026-01-20T18:00:00Z",
        {"contentId": "prog-1.w1.d4", "scheduledFor": "2026-01-29"},
    )
    log.add(
        "content.progressed",
        "2026-01-28T15:30:00Z",
        {"contentId": "prog-1.w1.d3", "status": "completed", "courseId": "prog-1"},
    )
    log.add(
        "content.rated", "2026-01-28T15:30:00Z", {"contentId": "prog-1.w1.d3", "rating": "perfect"}
    )
    # The user changes the rating, then cascades the next sessions' dates.
    log.add(
        "content.rated", "2026-01-28T15:31:00Z", {"contentId": "prog-1.w1.d3", "rating": "hard"}
    )
    log.add(
        "content.scheduled",
        "2026-01-28T15:40:00Z",
        {"contentId": "prog-1.w1.d4", "scheduledFor": "2026-01-31"},
    )
    log.add(
        "content.scheduled",
        "2026-01-28T15:40:00Z",
        {"contentId": "prog-1.w1.d5", "scheduledFor": "2026-02-02"},
    )
    # An offline tablet syncs an older rating later: the latest by occurredAt still wins.
    tablet = Log(client_id="tablet", prefix="tablet")
    tablet.add(
        "content.rated", "2026-01-28T15:30:30Z", {"contentId": "prog-1.w1.d3", "rating": "easy"}
    )
    log.add(
        "content.progressed",
        "2026-01-31T07:00:00Z",
        {"contentId": "prog-1.w1.d4", "status": "completed", "courseId": "prog-1"},
    )
    log.add(
        "content.scheduled",
        "2026-01-31T07:01:00Z",
        {"contentId": "prog-1.w1.d5", "scheduledFor": None},
    )
    retry_queue = log.events[2:4]  # a failed sync, retried
    assert fold([*log.events, *tablet.events, *retry_queue]).to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": {
            "prog-1.w1.d3": {
                "status": "completed",
                "courseId": "prog-1",
                "completedAt": "2026-01-28T15:30:00Z",
                "lastAttemptAt": "2026-01-28T15:30:00Z",
                "rating": "hard",
                "scheduledFor": "2026-01-28",
            },
            "prog-1.w1.d4": {
                "status": "completed",
                "courseId": "prog-1",
                "completedAt": "2026-01-31T07:00:00Z",
                "lastAttemptAt": "2026-01-31T07:00:00Z",
                "scheduledFor": "2026-01-31",
            },
            "prog-1.w1.d5": {"status": "not_started"},
        },
        "courses": {},
        "streak": {"current": 1, "longest": 1, "lastActiveDate": "2026-01-31"},
        "lastUpdated": "2026-01-31T07:01:00Z",
        "eventCount": 10,
    }


def test_video_heartbeats_sent_in_batches() -> None:
    """Heartbeats every 10 s, flushed every 3 minutes; batches arrive late and twice."""
    log = Log(client_id="lms-player")
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

    def heartbeat(n: int, position: int) -> RecordedEvent:
        when = (start + timedelta(seconds=10 * n)).isoformat()
        payload = {
            "contentId": "lesson-123",
            "positionSeconds": position,
            "durationSeconds": 600,
            "watchedSeconds": 10,
            "courseId": "course-456",
        }
        return log.add("media.progressed", when, payload)

    batches = [[heartbeat(n, 10 * n) for n in range(b * 18 + 1, b * 18 + 19)] for b in range(3)]
    seek_back = [heartbeat(55, 110)]  # the user jumps back to 1:40 and watches 10 s more

    # The projector's incremental path: batch 1, then batch 3, then batch 2 arrives late.
    snapshot = apply(Snapshot.empty(TENANT, USER), batches[0])
    snapshot = apply(snapshot, batches[2])
    with pytest.raises(LateEvent):
        apply(snapshot, batches[1])
    # ... so the projector replays the whole stored log (a retried batch included).
    stored = [*batches[0], *batches[2], *batches[1], *batches[1]]
    snapshot = apply(fold(stored), seek_back)
    assert snapshot == fold([*stored, *seek_back]) == log.snapshot()
    assert snapshot.to_api() == {
        "tenantId": TENANT,
        "userId": USER,
        "items": {
            "lesson-123": {
                "status": "completed",
                "courseId": "course-456",
                "completedAt": "2026-03-02T14:09:00Z",  # heartbeat 54, position 540 = 90 %
                "media": {
                    "lastPosition": 110,
                    "maxPosition": 540,
                    "duration": 600,
                    "watchedSeconds": 550,
                },
            }
        },
        "courses": {},
        "streak": {"current": 1, "longest": 1, "lastActiveDate": "2026-03-02"},
        "lastUpdated": "2026-03-02T14:09:10Z",
        "eventCount": 55,
    }

"""The insight rules on small hand-made learners: funnel, drop-off by day, median, content."""

from __future__ import annotations

from datetime import date

from shared.domain import parse_course
from shared.domain.insights import (
    content_contribution,
    content_insights,
    contribution,
    course_insights,
    difference,
    total,
)

from .builders import Log

COURSE = parse_course(
    {
        "items": [
            {"contentId": "a", "kind": "lesson"},
            {"contentId": "q", "kind": "quiz"},
            {"contentId": "x", "kind": "lesson", "required": False},
        ]
    },
    course_id="c",
)


def test_activity_dates_the_first_and_latest_event_naming_an_item() -> None:
    log = Log()
    log.add("content.rated", "2026-01-02T10:00:00Z", {"contentId": "a", "rating": "easy"})
    log.add(
        "content.progressed", "2026-01-01T10:00:00Z", {"contentId": "a", "status": "in_progress"}
    )
    item = log.snapshot().items["a"]
    assert item.first_activity_at is not None
    assert item.last_activity_at is not None
    assert (item.first_activity_at.day, item.last_activity_at.day) == (1, 2)
    assert "firstActivityAt" not in log.snapshot().to_api()["items"]["a"]


def learner(*steps: tuple[str, str, dict[str, object]]) -> dict[str, float]:
    log = Log()
    for event_type, when, payload in steps:
        log.add(event_type, when, payload)
    return contribution(COURSE, log.snapshot(), None)


def test_drop_off_is_the_furthest_started_item_of_who_has_not_completed() -> None:
    stuck = learner(
        ("content.progressed", "2026-01-01T00:00:00Z", {"contentId": "a", "status": "completed"}),
        (
            "quiz.attempted",
            "2026-01-05T00:00:00Z",
            {"contentId": "q", "score": 3, "maxScore": 10, "passed": False},
        ),
    )
    done = learner(
        ("content.progressed", "2026-01-01T00:00:00Z", {"contentId": "a", "status": "completed"}),
        (
            "quiz.attempted",
            "2026-01-01T01:30:00Z",
            {"contentId": "q", "score": 9, "maxScore": 10, "passed": True},
        ),
    )
    only_rated = learner(
        ("content.rated", "2026-01-01T00:00:00Z", {"contentId": "a", "rating": "x"})
    )
    assert only_rated == {}
    sums = total([stuck, done, only_rated])

    inactive_14 = course_insights(COURSE, sums, 14, date(2026, 1, 19))
    inactive_15 = course_insights(COURSE, sums, 15, date(2026, 1, 19))
    assert [i.drop_off for i in inactive_14.items] == [0, 1, 0]  # last active Jan 5
    assert [i.drop_off for i in inactive_15.items] == [0, 0, 0]
    assert (inactive_14.started, inactive_14.completed) == (2, 1)
    assert inactive_14.median_seconds_to_complete == 5400.0
    assert inactive_14.items[1].quiz == {"attempts": 2, "passRate": 0.5, "meanBestScore": 6.0}


def test_a_repeat_adds_nothing_and_a_reset_takes_everything_back() -> None:
    before = learner(
        ("content.progressed", "2026-01-01T00:00:00Z", {"contentId": "a", "status": "completed"})
    )
    assert difference(before, before) == {}
    assert total([before, {key: -value for key, value in difference({}, before).items()}]) == {}


def test_content_lists_the_most_started_items_first() -> None:
    log = Log()
    log.add("content.progressed", "2026-01-01T00:00:00Z", {"contentId": "b", "status": "completed"})
    log.add(
        "content.progressed", "2026-01-01T00:00:01Z", {"contentId": "a", "status": "in_progress"}
    )
    other = Log(prefix="o")
    other.add(
        "content.progressed", "2026-01-01T00:00:00Z", {"contentId": "a", "status": "in_progress"}
    )
    sums = total([content_contribution(log.snapshot()), content_contribution(other.snapshot())])
    top = content_insights(sums, 1)
    assert [(i.content_id, i.started, i.completion_rate) for i in top] == [("a", 2, 0.0)]
    assert [i.content_id for i in content_insights(sums, 100)] == ["a", "b"]

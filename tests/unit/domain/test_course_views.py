"""Course views derived from snapshots: the tutorial, workout and algorithm apps' flows."""

from __future__ import annotations

from typing import Any

from shared.domain import (
    CatalogTotals,
    Certificate,
    Course,
    CourseView,
    Snapshot,
    course_view,
    course_views,
    parse_course,
)

from .builders import TENANT, USER, Log, at

TUTORIAL = parse_course(
    {
        "courseId": "tut-1",
        "title": "Intro to Python",
        "items": [
            {"contentId": "ch-1", "kind": "chapter", "group": "module-1"},
            {"contentId": "ch-2", "kind": "chapter", "group": "module-1"},
            {"contentId": "ch-3", "kind": "chapter", "group": "module-2"},
            {"contentId": "quiz-1", "kind": "quiz", "group": "module-2"},
            {"contentId": "bonus", "kind": "video", "required": False, "group": "module-2"},
        ],
    }
)


def view(course: Course, log: Log, certificate: Certificate | None = None) -> CourseView:
    return course_view(course, log.snapshot(), certificate)


def counts(result: CourseView) -> tuple[int, int, int, list[tuple[int, int]]]:
    groups = [(group.completed, group.required) for group in result.groups]
    return result.completed, result.required, result.percentage, groups


def test_tutorial_flow_percentages_quiz_and_certificate_claims() -> None:
    log = Log()
    watch = {"contentId": "ch-1", "durationSeconds": 600, "courseId": "tut-1"}
    log.add("media.progressed", "2026-03-01T10:00:00Z", {**watch, "positionSeconds": 300})
    assert counts(view(TUTORIAL, log)) == (0, 4, 0, [(0, 2), (0, 2)])

    log.add(
        "media.progressed",
        "2026-03-01T10:05:00Z",
        {**watch, "positionSeconds": 560, "watchedSeconds": 260},
    )
    result = view(TUTORIAL, log)
    assert counts(result) == (1, 4, 25, [(1, 2), (0, 2)])
    assert result.watched_seconds == 260
    assert result.last_activity_at == at("2026-03-01T10:05:00Z")

    log.add(
        "content.progressed", "2026-03-01T11:00:00Z", {"contentId": "ch-2", "status": "completed"}
    )
    assert counts(view(TUTORIAL, log)) == (2, 4, 50, [(2, 2), (0, 2)])

    quiz = {"contentId": "quiz-1", "maxScore": 10}
    log.add("quiz.attempted", "2026-03-01T12:00:00Z", {**quiz, "score": 4, "passed": False})
    result = view(TUTORIAL, log)
    assert counts(result) == (2, 4, 50, [(2, 2), (0, 2)])
    quiz_view = result.groups[1].items[1]
    assert (quiz_view.status, quiz_view.done) == ("in_progress", False)
    assert quiz_view.quiz is not None
    assert quiz_view.quiz.attempts == 1

    log.add("course.completed", "2026-03-01T12:30:00Z", {"courseId": "tut-1"})
    certificate = view(TUTORIAL, log).certificate
    assert (certificate.eligible, certificate.earned_at) == (False, None)
    assert certificate.refused_claim is not None
    assert certificate.refused_claim.claimed_at == at("2026-03-01T12:30:00Z")
    assert certificate.refused_claim.missing == ["ch-3", "quiz-1"]
    assert certificate.refused_claim.reason == (
        "claimed at 2026-03-01T12:30:00Z with 2 of 4 required items done (the certificate "
        "needs 100 %); not done by then: ch-3, quiz-1 (must be passed)"
    )

    log.add(
        "content.progressed", "2026-03-02T09:00:00Z", {"contentId": "ch-3", "status": "completed"}
    )
    assert counts(view(TUTORIAL, log)) == (3, 4, 75, [(2, 2), (1, 2)])
    log.add("quiz.attempted", "2026-03-02T09:30:00Z", {**quiz, "score": 9, "passed": True})
    result = view(TUTORIAL, log)
    assert counts(result) == (4, 4, 100, [(2, 2), (2, 2)])
    assert result.certificate.eligible is True
    assert result.certificate.earned_at is None  # the only claim came too early
    assert result.certificate.refused_claim is not None

    log.add("course.completed", "2026-03-02T10:00:00Z", {"courseId": "tut-1"})
    certificate = view(TUTORIAL, log).certificate
    assert certificate.earned_at == at("2026-03-02T10:00:00Z")
    assert certificate.refused_claim is None
    # Recorded when a view first found it, the certificate does not move with later claims.
    recorded = Certificate(TENANT, USER, "tut-1", certificate.earned_at)
    log.add("course.completed", "2026-03-03T10:00:00Z", {"courseId": "tut-1"})
    assert view(TUTORIAL, log, recorded).certificate.earned_at == at("2026-03-02T10:00:00Z")


def test_a_quiz_completed_before_it_was_passed_is_not_done_until_passed() -> None:
    course = parse_course({"courseId": "c", "items": [{"contentId": "q", "kind": "quiz"}]})
    log = Log()
    log.add("content.progressed", "2026-03-01T10:00:00Z", {"contentId": "q", "status": "completed"})
    log.add("course.completed", "2026-03-01T10:10:00Z", {"courseId": "c"})
    log.add(
        "quiz.attempted",
        "2026-03-01T10:20:00Z",
        {"contentId": "q", "score": 8, "maxScore": 10, "passed": True},
    )
    result = view(course, log)
    assert result.groups[0].items[0].done_at == at("2026-03-01T10:20:00Z")
    assert result.certificate.eligible is True
    assert result.certificate.refused_claim is not None
    assert result.certificate.refused_claim.missing == ["q"]


def test_a_certificate_rule_below_100_percent() -> None:
    course = parse_course(
        {
            "courseId": "c",
            "items": [{"contentId": f"s{n}", "kind": "step"} for n in range(4)],
            "certificate": {"minPercentage": 75},
        }
    )
    log = Log()
    for n in range(3):
        log.add(
            "content.progressed",
            f"2026-03-01T10:0{n}:00Z",
            {"contentId": f"s{n}", "status": "completed"},
        )
    log.add("course.completed", "2026-03-01T11:00:00Z", {"courseId": "c"})
    result = view(course, log)
    assert (result.percentage, result.certificate.earned_at) == (75, at("2026-03-01T11:00:00Z"))


PROGRAM = parse_course(
    {
        "courseId": "strength-4w",
        "title": "4-week strength",
        "items": [
            {"contentId": f"w{week}d{day}", "kind": "session", "group": week, "day": day}
            for week in range(1, 5)
            for day in (1, 3, 5)
        ],
    }
)


def test_workout_week_view_shows_done_rated_and_scheduled_days() -> None:
    log = Log(client_id="phone")
    log.add(
        "content.scheduled",
        "2026-01-25T08:00:00Z",
        {"contentId": "w1d1", "scheduledFor": "2026-01-26"},
    )
    log.add(
        "content.progressed", "2026-01-26T18:00:00Z", {"contentId": "w1d1", "status": "completed"}
    )
    log.add("content.rated", "2026-01-26T18:01:00Z", {"contentId": "w1d1", "rating": "perfect"})
    log.add(
        "content.scheduled",
        "2026-01-26T18:02:00Z",
        {"contentId": "w1d3", "scheduledFor": "2026-01-28"},
    )
    # Rescheduled from Wednesday to Thursday, then done and found hard.
    log.add(
        "content.scheduled",
        "2026-01-27T07:00:00Z",
        {"contentId": "w1d3", "scheduledFor": "2026-01-29"},
    )
    log.add(
        "content.progressed", "2026-01-29T19:00:00Z", {"contentId": "w1d3", "status": "completed"}
    )
    log.add("content.rated", "2026-01-29T19:05:00Z", {"contentId": "w1d3", "rating": "hard"})
    log.add(
        "content.scheduled",
        "2026-01-29T19:06:00Z",
        {"contentId": "w1d5", "scheduledFor": "2026-01-31"},
    )

    result = view(PROGRAM, log)
    assert (result.completed, result.required, result.percentage) == (2, 12, 16)
    assert [group.group for group in result.groups] == [1, 2, 3, 4]
    week_one = result.groups[0]
    assert (week_one.completed, week_one.required, week_one.percentage) == (2, 3, 66)
    days = [
        (item.day, item.status, item.rating, item.scheduled_for and item.scheduled_for.isoformat())
        for item in week_one.items
    ]
    assert days == [
        (1, "completed", "perfect", "2026-01-26"),
        (3, "completed", "hard", "2026-01-29"),
        (5, "not_started", None, "2026-01-31"),
    ]
    assert week_one.items[1].done_at == at("2026-01-29T19:00:00Z")
    assert [(group.completed, group.percentage) for group in result.groups[1:]] == [(0, 0)] * 3
    shown = result.model_dump(mode="json")["groups"][0]["items"][2]
    assert shown == {
        "contentId": "w1d5",
        "kind": "session",
        "required": True,
        "day": 5,
        "status": "not_started",
        "done": False,
        "scheduledFor": "2026-01-31",
    }


ALGORITHMS = [
    parse_course(
        {
            "courseId": name,
            "items": [
                {"contentId": f"{name}.{step}", "kind": "step"}
                for step in ("theory", "dataset", "eda", "features", "model")
            ],
        }
    )
    for name in ("linear_regression", "k_means", "decision_tree")
]


def test_algorithm_steps_overall_percentage_across_algorithms() -> None:
    log = Log()
    done = ["linear_regression.theory", "linear_regression.dataset", "linear_regression.eda"]
    done += ["k_means.theory", "k_means.dataset"]
    for index, content_id in enumerate(done):
        log.add(
            "content.progressed",
            f"2026-01-05T10:0{index}:00Z",
            {"contentId": content_id, "status": "completed"},
        )
    result = course_views(ALGORITHMS, log.snapshot(), {}, CatalogTotals(courses=3, required=15))
    assert {key: view.percentage for key, view in result.courses.items()} == {
        "linear_regression": 60,
        "k_means": 40,
    }
    assert result.overall is not None
    assert result.overall.model_dump() == {
        "courses": 3,
        "coursesTouched": 2,
        "certificates": 0,
        "completed": 5,
        "required": 15,
        "percentage": 33,
    }


def test_untouched_courses_are_left_out_and_an_empty_catalog_has_no_overall() -> None:
    empty = Snapshot.empty(TENANT, USER)
    assert course_views(ALGORITHMS, empty, {}, CatalogTotals(3, 15)).courses == {}
    assert course_views([], empty, {}, CatalogTotals(0, 0)).overall is None
    certified = Certificate(TENANT, USER, "k_means", at("2026-01-01T00:00:00Z"))
    kept = course_views(ALGORITHMS, empty, {"k_means": certified}, CatalogTotals(3, 15))
    assert list(kept.courses) == ["k_means"]
    assert kept.courses["k_means"].certificate.earned_at == certified.earned_at


def with_item(course: Course, item: dict[str, Any]) -> Course:
    definition = course.to_json()
    definition["items"].append(item)
    return parse_course(definition)


def test_a_catalog_change_lowers_the_percentage_but_keeps_a_recorded_certificate() -> None:
    log = Log()
    for index, content_id in enumerate(["ch-1", "ch-2", "ch-3"]):
        log.add(
            "content.progressed",
            f"2026-03-01T10:0{index}:00Z",
            {"contentId": content_id, "status": "completed"},
        )
    log.add(
        "quiz.attempted",
        "2026-03-01T10:05:00Z",
        {"contentId": "quiz-1", "score": 9, "maxScore": 10, "passed": True},
    )
    log.add("course.completed", "2026-03-01T11:00:00Z", {"courseId": "tut-1"})
    before = view(TUTORIAL, log)
    assert (before.percentage, before.certificate.earned_at) == (100, at("2026-03-01T11:00:00Z"))
    recorded = Certificate(TENANT, USER, "tut-1", at("2026-03-01T11:00:00Z"))

    changed = with_item(TUTORIAL, {"contentId": "ch-4", "kind": "chapter", "group": "module-3"})
    after = view(changed, log, recorded)
    assert (after.completed, after.required, after.percentage) == (4, 5, 80)
    assert after.groups[-1].group == "module-3"
    assert after.certificate.eligible is False
    assert after.certificate.earned_at == at("2026-03-01T11:00:00Z")
    # Without the recorded certificate the new definition would refuse the old claim.
    assert view(changed, log).certificate.refused_claim is not None

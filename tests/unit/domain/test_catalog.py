"""Catalog definitions: what a valid course is, and errors that name course, item and rule."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain import InvalidCourse, parse_course
from shared.domain.catalog import MAX_ITEMS


def course(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"courseId": "tut-1", "items": list(items), **fields}


def problems(raw: object, **kwargs: Any) -> list[tuple[str | None, str | None, str, str]]:
    with pytest.raises(InvalidCourse) as caught:
        parse_course(raw, **kwargs)
    return [(p.course_id, p.item, p.field, p.rule) for p in caught.value.problems]


def test_a_course_keeps_its_items_in_order_with_defaults() -> None:
    parsed = parse_course(
        course(
            {"contentId": "ch-1", "kind": "chapter", "group": "module-1"},
            {"contentId": "quiz.$1", "kind": "quiz", "group": 1, "day": 3, "label": "Check"},
            {"contentId": "extra", "kind": "video", "required": False},
            title="Intro",
        )
    )
    assert [item.content_id for item in parsed.items] == ["ch-1", "quiz.$1", "extra"]
    assert [item.needs for item in parsed.items] == ["completed", "passed", "completed"]
    assert [item.content_id for item in parsed.required_items] == ["ch-1", "quiz.$1"]
    assert parsed.certificate.min_percentage == 100
    assert parsed.to_json() == {
        "courseId": "tut-1",
        "title": "Intro",
        "items": [
            {"contentId": "ch-1", "kind": "chapter", "required": True, "group": "module-1"},
            {
                "contentId": "quiz.$1",
                "kind": "quiz",
                "required": True,
                "group": 1,
                "day": 3,
                "label": "Check",
            },
            {"contentId": "extra", "kind": "video", "required": False},
        ],
        "certificate": {"minPercentage": 100},
    }
    assert parse_course(parsed.to_json()) == parsed


def test_a_quiz_may_count_as_done_when_merely_completed() -> None:
    parsed = parse_course(
        course({"contentId": "q", "kind": "quiz", "completeWhen": "completed"}),
        course_id="tut-1",
    )
    assert parsed.items[0].needs == "completed"


def test_duplicate_item_ids_name_course_item_and_rule() -> None:
    raw = course(
        {"contentId": "ch-1", "kind": "chapter"},
        {"contentId": "ch-2", "kind": "chapter"},
        {"contentId": "ch-1", "kind": "quiz"},
    )
    with pytest.raises(InvalidCourse) as caught:
        parse_course(raw)
    (problem,) = caught.value.problems
    assert (problem.course_id, problem.item, problem.field, problem.rule) == (
        "tut-1",
        "ch-1",
        "items.2.contentId",
        "unique_item_ids",
    )
    assert str(caught.value) == (
        "course 'tut-1', item 'ch-1' (items.2.contentId): contentId already listed as "
        "items.0; an item may appear once per course [rule: unique_item_ids]"
    )


def test_ids_that_break_the_id_rules_are_named() -> None:
    found = problems(
        course(
            {"contentId": "ch 1", "kind": "chapter"},
            {"contentId": "x" * 129, "kind": "chapter"},
            {"contentId": "", "kind": "chapter"},
        )
    )
    assert found == [
        ("tut-1", "ch 1", "items.0.contentId", "id_format"),
        ("tut-1", "x" * 129, "items.1.contentId", "string_too_long"),
        ("tut-1", "", "items.2.contentId", "string_too_short"),
    ]
    assert problems({"courseId": "a\tb", "items": [{"contentId": "c", "kind": "step"}]}) == [
        ("a\tb", None, "courseId", "id_format")
    ]


def test_item_fields_are_checked_and_unknown_ones_refused() -> None:
    found = problems(
        course(
            {"contentId": "ch-1"},
            {"contentId": "ch-2", "kind": "chapter", "required": "yes"},
            {"contentId": "ch-3", "kind": "chapter", "day": 0},
            {"contentId": "ch-4", "kind": "chapter", "weight": 2},
            {"kind": "chapter"},
            "ch-6",
        )
    )
    assert found == [
        ("tut-1", "ch-1", "items.0.kind", "missing"),
        ("tut-1", "ch-2", "items.1.required", "bool_type"),
        ("tut-1", "ch-3", "items.2.day", "greater_than_equal"),
        ("tut-1", "ch-4", "items.3.weight", "extra_forbidden"),
        ("tut-1", "#5", "items.4.contentId", "missing"),
        ("tut-1", "#6", "items.5", "model_type"),
    ]


def test_course_level_rules() -> None:
    assert problems(course()) == [("tut-1", None, "items", "too_short")]
    many = [{"contentId": f"s{n}", "kind": "step"} for n in range(MAX_ITEMS + 1)]
    assert problems(course(*many)) == [("tut-1", None, "items", "too_long")]
    assert problems(course({"contentId": "v", "kind": "video", "required": False})) == [
        ("tut-1", None, "items", "has_required_item")
    ]
    assert problems(
        course({"contentId": "s", "kind": "step"}, certificate={"minPercentage": 0})
    ) == [("tut-1", None, "certificate.minPercentage", "greater_than_equal")]
    assert problems([]) == [(None, None, "course", "object")]


def test_the_addressed_course_id_fills_in_or_must_match() -> None:
    body = {"items": [{"contentId": "s", "kind": "step"}]}
    assert parse_course(body, course_id="algo.$1").course_id == "algo.$1"
    assert problems({**body, "courseId": "other"}, course_id="algo") == [
        ("algo", None, "courseId", "course_id_matches")
    ]

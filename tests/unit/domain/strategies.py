"""Hypothesis strategies for realistic mixed event logs of one user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from shared.domain import EVENT_TYPES, RecordedEvent

from .builders import raw_event, record

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CONTENT_IDS = ["lesson-1", "lesson-2", "video.intro", "$where", "quiz-1"]
COURSE_IDS = ["course-a", "course.b"]
PATH_IDS = ["path-1", "path-2"]

# Hours over four days: few enough distinct values that occurredAt ties are common.
occurred_at = st.integers(0, 4 * 24).map(lambda hours: START + timedelta(hours=hours))
content_id = st.sampled_from(CONTENT_IDS)
score = st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False))
optional_course = st.sampled_from([None, *COURSE_IDS])


def _without_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


interaction = st.fixed_dictionaries(
    {
        "interactionId": st.sampled_from(["q1", "q2"]),
        "state": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"kind": st.just("quiz"), "selectedOptionId": st.sampled_from(["a", "b", None])}
            ),
        ),
    }
)

extensions = st.none() | st.fixed_dictionaries(
    {"seekEvents": st.integers(0, 5)}, optional={"speed": st.sampled_from([1, 1.5, "2x"])}
)

PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any] | None]] = {
    "content.progressed": st.builds(
        _without_none,
        contentId=content_id,
        status=st.sampled_from(["not_started", "in_progress", "completed", "passed"]),
        score=st.none() | score,
        contentVersion=st.sampled_from([None, "v1", "v2"]),
        courseId=optional_course,
        interaction=st.none() | interaction,
        extensions=extensions,
    ),
    "media.progressed": st.builds(
        _without_none,
        contentId=content_id,
        positionSeconds=st.integers(0, 600) | st.floats(0, 600),
        durationSeconds=st.sampled_from([None, 300, 600.0]),
        watchedSeconds=st.sampled_from([None, 0, 10, 12.5]),
        courseId=optional_course,
        extensions=extensions,
    ),
    "quiz.attempted": st.builds(
        _without_none,
        contentId=content_id,
        score=st.integers(0, 10),
        maxScore=st.just(10),
        passed=st.booleans(),
        courseId=optional_course,
    ),
    "content.rated": st.builds(
        _without_none, contentId=content_id, rating=st.sampled_from(["easy", "perfect", "hard"])
    ),
    "content.scheduled": st.fixed_dictionaries(
        {
            "contentId": content_id,
            "scheduledFor": st.sampled_from([None, "2026-01-28", "2026-02-01"]),
        }
    ),
    "course.completed": st.fixed_dictionaries({"courseId": st.sampled_from(COURSE_IDS)}),
    "onboarding.completed": st.fixed_dictionaries({"pathId": st.sampled_from(PATH_IDS)}),
    "onboarding.reset": st.sampled_from([None, {}]),
    "activePath.set": st.builds(
        lambda path, ext: _without_none(pathId=path, extensions=ext) | {"pathId": path},
        st.sampled_from([None, *PATH_IDS]),
        extensions,
    ),
    "progress.reset": st.one_of(
        st.sampled_from([None, {}]),
        st.builds(
            _without_none,
            contentIds=st.lists(content_id, min_size=1, max_size=3, unique=True),
            courseId=optional_course,
        ),
    ),
    "events.retracted": st.fixed_dictionaries(
        {"eventIds": st.lists(st.sampled_from(["000-0", "001-1", "002-2"]), min_size=1)}
    ),
}
assert set(PAYLOADS) == set(EVENT_TYPES)

# Resets and retractions are rarer than progress in real logs; about 1 in 30 each.
_RARE = ("progress.reset", "events.retracted")
_TYPE_WEIGHTS = [t for t in EVENT_TYPES if t not in _RARE for _ in range(3)] + list(_RARE)


@st.composite
def events(draw: st.DrawFn, *, event_type: str | None = None, suffix: str = "0") -> RecordedEvent:
    """One valid recorded event; the eventId's random prefix varies tie-breaking."""
    chosen = event_type or draw(st.sampled_from(_TYPE_WEIGHTS))
    event_id = f"{draw(st.integers(0, 999)):03d}-{suffix}"
    when = draw(occurred_at).isoformat()
    client = draw(st.sampled_from(["phone", "web"]))
    raw = raw_event(chosen, when, draw(PAYLOADS[chosen]), event_id=event_id, client_id=client)
    return record(raw)


@st.composite
def logs(
    draw: st.DrawFn,
    *,
    min_size: int = 0,
    max_size: int = 30,
    tag: str = "",
    retractions: bool = True,
) -> list[RecordedEvent]:
    """A log of distinct events in storage order (not sorted); `tag` keeps eventIds of
    separately drawn logs apart."""
    size = draw(st.integers(min_size, max_size))
    kinds = _TYPE_WEIGHTS if retractions else [t for t in _TYPE_WEIGHTS if t != "events.retracted"]
    drawn = [
        draw(events(event_type=draw(st.sampled_from(kinds)), suffix=f"{tag}{index}"))
        for index in range(size)
    ]
    if retractions and drawn and draw(st.integers(0, 3)) == 0:
        named = draw(st.lists(st.sampled_from([e.event_id for e in drawn]), min_size=1))
        raw = raw_event(
            "events.retracted",
            draw(occurred_at).isoformat(),
            {"eventIds": named},
            event_id=f"ret-{tag}{size}",
        )
        drawn.insert(draw(st.integers(0, len(drawn))), record(raw))
    return drawn

"""Request examples for the OpenAPI document: one per event type, and a bulk import."""

from __future__ import annotations

from typing import Any

__all__ = ["BULK_WRITE_EXAMPLES", "EVENT_EXAMPLES", "USER_WRITE_EXAMPLES"]

_AT = "2026-11-20T10:00:00Z"


def _event(event_id: str, event_type: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventId": event_id,
        "occurredAt": _AT,
        "clientId": "web-3f2a",
        "type": event_type,
    }
    if payload is not None:
        event["payload"] = payload
    return event


EVENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "content.progressed": _event(
        "evt-001",
        "content.progressed",
        {
            "contentId": "lesson-intro",
            "status": "completed",
            "score": 90,
            "contentVersion": "v3",
            "courseId": "python-101",
            "interaction": {
                "interactionId": "quiz-intro-q1",
                "state": {"kind": "quiz", "selectedOptionId": "c"},
            },
        },
    ),
    "media.progressed": _event(
        "evt-002",
        "media.progressed",
        {
            "contentId": "video-ch1",
            "positionSeconds": 120.5,
            "durationSeconds": 320,
            "watchedSeconds": 15,
            "courseId": "python-101",
            "extensions": {"seekEvents": 2, "pauseEvents": 1, "playbackSpeed": 1.5},
        },
    ),
    "quiz.attempted": _event(
        "evt-003",
        "quiz.attempted",
        {
            "contentId": "quiz-ch1",
            "score": 8,
            "maxScore": 10,
            "passed": True,
            "courseId": "python-101",
        },
    ),
    "content.rated": _event(
        "evt-004", "content.rated", {"contentId": "workout-w1d2", "rating": "hard"}
    ),
    "content.scheduled": _event(
        "evt-005", "content.scheduled", {"contentId": "workout-w1d3", "scheduledFor": "2026-11-24"}
    ),
    "course.completed": _event("evt-006", "course.completed", {"courseId": "python-101"}),
    "onboarding.completed": _event("evt-007", "onboarding.completed", {"pathId": "frontend"}),
    "onboarding.reset": _event("evt-008", "onboarding.reset", None),
    "activePath.set": _event("evt-009", "activePath.set", {"pathId": "frontend"}),
    "progress.reset": _event(
        "evt-010", "progress.reset", {"contentIds": ["lesson-intro", "quiz-ch1"]}
    ),
    "events.retracted": _event("evt-012", "events.retracted", {"eventIds": ["evt-003"]}),
}

USER_WRITE_EXAMPLES: dict[str, dict[str, Any]] = {
    event_type: {"summary": event_type, "value": {"events": [event]}}
    for event_type, event in EVENT_EXAMPLES.items()
}
USER_WRITE_EXAMPLES["several"] = {
    "summary": "several events at once, from an offline queue",
    "value": {
        "clientUpdatedAt": "2026-11-20T10:05:00Z",
        "events": [EVENT_EXAMPLES["media.progressed"], EVENT_EXAMPLES["quiz.attempted"]],
    },
}

BULK_WRITE_EXAMPLES: dict[str, dict[str, Any]] = {
    "import": {
        "summary": "a server-to-server import for two users",
        "value": {
            "events": [
                {**EVENT_EXAMPLES["content.progressed"], "userId": "u-1001"},
                {**EVENT_EXAMPLES["course.completed"], "eventId": "evt-011", "userId": "u-1002"},
            ]
        },
    }
}

"""Realistic progress events: the ten types in a learner-like mix, some late, per user.

Each user has a clock that moves forward with the run; a share of events is "late" (an
offline device syncing hours or days afterwards), so their occurredAt sorts before events
already stored and the projector must replay. Every event has a fresh eventId; resends of
already-sent events are chosen by the load generator, with their exact bodies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["EventMaker", "Raw"]

Raw = dict[str, Any]

_MIX = {
    "media.progressed": 30,
    "content.progressed": 20,
    "quiz.attempted": 15,
    "content.rated": 8,
    "activePath.set": 6,
    "content.scheduled": 6,
    "course.completed": 5,
    "onboarding.completed": 5,
    "onboarding.reset": 3,
    "progress.reset": 2,
}
_TYPES = list(_MIX)
_WEIGHTS = list(_MIX.values())
_CONTENT = [f"item-{n}" for n in range(12)] + ["lesson.1$intro", "step/2"]
_COURSES = ["course-a", "course-b", "course-c"]
_PATHS = ["path-web", "path-data", None]


def _payload(rng: random.Random, kind: str) -> Raw | None:
    content = rng.choice(_CONTENT)
    course = rng.choice(_COURSES)
    if kind == "media.progressed":
        return {
            "contentId": content,
            "positionSeconds": rng.randint(0, 600),
            "durationSeconds": 600,
            "watchedSeconds": rng.randint(1, 30),
            "courseId": course,
        }
    if kind == "content.progressed":
        payload: Raw = {
            "contentId": content,
            "status": rng.choice(["not_started", "in_progress", "completed", "passed"]),
            "score": rng.randint(0, 100),
            "courseId": course,
        }
        if rng.random() < 0.3:
            state = {"kind": "quiz", "selectedOptionId": rng.choice("abcd")}
            payload["interaction"] = {
                "interactionId": f"q{rng.randint(1, 5)}",
                "state": None if rng.random() < 0.2 else state,
            }
        return payload
    if kind == "quiz.attempted":
        score = rng.randint(0, 10)
        return {"contentId": content, "score": score, "maxScore": 10, "passed": score >= 7}
    if kind == "content.rated":
        return {"contentId": content, "rating": rng.choice(["easy", "perfect", "hard"])}
    if kind == "content.scheduled":
        day = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 60))
        return {"contentId": content, "scheduledFor": day.date().isoformat()}
    if kind == "course.completed":
        return {"courseId": course}
    if kind == "onboarding.completed":
        return {"pathId": rng.choice(_PATHS[:2])}
    if kind == "activePath.set":
        return {"pathId": rng.choice(_PATHS)}
    return None


@dataclass
class EventMaker:
    """Makes new events for users; `late_share` of them with an occurredAt in the past."""

    rng: random.Random
    late_share: float
    run_id: str
    _clocks: dict[str, datetime] = field(default_factory=dict)
    _counter: int = 0
    late: int = 0

    def new(self, user: str) -> Raw:
        """A new event for `user` (without userId), with a never-used eventId."""
        self._counter += 1
        now = datetime.now(UTC)
        clock = self._clocks.get(user, now - timedelta(days=3))
        clock = min(now, clock + timedelta(seconds=self.rng.randint(1, 900)))
        self._clocks[user] = clock
        occurred = clock
        if self.rng.random() < self.late_share:
            occurred = clock - timedelta(minutes=self.rng.randint(1, 3 * 24 * 60))
            self.late += 1
        kind = self.rng.choices(_TYPES, _WEIGHTS)[0]
        raw: Raw = {
            "eventId": f"{self.run_id}-{self._counter:07d}",
            "occurredAt": occurred.isoformat(timespec="milliseconds"),
            "clientId": self.rng.choice(["web", "ios", "android"]),
            "type": kind,
        }
        payload = _payload(self.rng, kind)
        if payload is not None:
            raw["payload"] = payload
        return raw

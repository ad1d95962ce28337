"""Golden vectors for the TypeScript port of the reducer: event logs and their snapshots.

`python -m tests.golden_vectors` writes `clients/golden/reducer-vectors.json`; the unit test
`tests/unit/domain/test_golden_vectors.py` fails while that file differs from what this module
builds, and the browser SDK's tests (clients/js) fold every log and compare with its snapshot.
Each vector is a log in storage order (duplicates and late arrivals included) and
`Snapshot.to_api()` of `reduce` over it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from shared.domain import RecordedEvent, reduce, validate_event
from tests.unit.domain.builders import FAR_FUTURE, TENANT, USER

VECTORS_PATH = (
    Path(__file__).resolve().parent.parent / "clients" / "golden" / "reducer-vectors.json"
)

Raw = dict[str, Any]


def _event(event_id: str, event_type: str, occurred_at: str, payload: Raw | None = None) -> Raw:
    raw: Raw = {
        "eventId": event_id,
        "occurredAt": occurred_at,
        "clientId": "web",
        "type": event_type,
    }
    if payload is not None:
        raw["payload"] = payload
    return raw


def _cp(event_id: str, at: str, content: str, status: str, **extra: Any) -> Raw:
    return _event(
        event_id, "content.progressed", at, {"contentId": content, "status": status, **extra}
    )


def _media(event_id: str, at: str, content: str, position: float, **extra: Any) -> Raw:
    payload = {"contentId": content, "positionSeconds": position, **extra}
    return _event(event_id, "media.progressed", at, payload)


def _quiz(event_id: str, at: str, content: str, score: float, passed: bool, **extra: Any) -> Raw:
    payload = {"contentId": content, "score": score, "maxScore": 10, "passed": passed, **extra}
    return _event(event_id, "quiz.attempted", at, payload)


def _hand_written() -> dict[str, list[Raw]]:
    """Small logs, one per rule, named for what they show."""
    day = "2026-03-0{}T10:00:00Z".format
    return {
        "empty": [],
        "status never regresses, score is the maximum": [
            _cp("a", "2026-03-01T10:00:00Z", "s1", "completed", score=80),
            _cp("b", "2026-03-01T11:00:00Z", "s1", "in_progress", score=40, contentVersion="v2"),
        ],
        "out of order arrival folds in time order": [
            _cp("late", "2026-03-01T12:00:00+02:00", "s1", "in_progress", courseId="c2"),
            _cp("early", "2026-03-01T09:59:59.999999Z", "s1", "completed", courseId="c1"),
        ],
        "same time: eventId breaks the tie": [
            _event("b", "activePath.set", "2026-03-01T10:00:00Z", {"pathId": "p-b"}),
            _event("a", "activePath.set", "2026-03-01T10:00:00.000Z", {"pathId": "p-a"}),
        ],
        "duplicates: the first stored wins": [
            _cp("dup", "2026-03-01T10:00:00Z", "s1", "in_progress", score=5),
            _cp("dup", "2026-03-01T10:00:00Z", "s1", "in_progress", score=5),
            _cp("dup", "2026-03-02T10:00:00Z", "s1", "passed", score=9),
        ],
        "interactions are set and removed": [
            _cp(
                "i1",
                day(1),
                "q",
                "in_progress",
                interaction={
                    "interactionId": "x",
                    "state": {"kind": "quiz", "selectedOptionId": "c"},
                },
            ),
            _cp(
                "i2",
                day(2),
                "q",
                "in_progress",
                interaction={"interactionId": "y", "state": {"n": [1, 2]}},
            ),
            _cp(
                "i3", day(3), "q", "in_progress", interaction={"interactionId": "x", "state": None}
            ),
            _cp(
                "i4",
                day(4),
                "r",
                "in_progress",
                interaction={"interactionId": "z", "state": {"a": 1}},
            ),
            _cp(
                "i5", day(5), "r", "in_progress", interaction={"interactionId": "z", "state": None}
            ),
        ],
        "media: 90 % of the latest duration completes": [
            _media("m1", "2026-03-01T10:00:00Z", "v", 100, durationSeconds=320, watchedSeconds=100),
            _media("m2", "2026-03-01T10:01:00Z", "v", 287.9, watchedSeconds=187.5),
            _media("m3", "2026-03-01T10:02:00Z", "v", 288, watchedSeconds=0.5),
            _media("m4", "2026-03-01T10:03:00Z", "v", 10),
            _media("n1", "2026-03-01T10:04:00Z", "w", 90, durationSeconds=100),
            _media("n2", "2026-03-01T10:05:00Z", "w", 5, durationSeconds=0),
            _media("o1", "2026-03-01T10:06:00Z", "x", 0.1, courseId="c1"),
        ],
        "quiz attempts: passed once any attempt passed": [
            _quiz("q1", day(1), "quiz", 4, False, courseId="c1"),
            _quiz("q2", day(2), "quiz", 9, True),
            _quiz("q3", day(3), "quiz", 6.5, False),
            _cp("q4", day(4), "quiz", "completed", score=3),
        ],
        "ratings and schedules: latest by time": [
            _event("r2", "content.rated", day(2), {"contentId": "w", "rating": "hard"}),
            _event("r1", "content.rated", day(1), {"contentId": "w", "rating": "easy"}),
            _event(
                "s1", "content.scheduled", day(1), {"contentId": "w", "scheduledFor": "2026-04-01"}
            ),
            _event(
                "s2", "content.scheduled", day(3), {"contentId": "w2", "scheduledFor": "2026-04-02"}
            ),
            _event("s3", "content.scheduled", day(4), {"contentId": "w2", "scheduledFor": None}),
        ],
        "streaks: consecutive UTC days, offsets count in UTC": [
            _cp("d1", "2026-03-01T23:30:00-01:00", "a", "completed"),
            _cp("d2", "2026-03-02T12:00:00Z", "b", "completed"),
            _cp("d3", "2026-03-02T13:00:00Z", "c", "passed"),
            _cp("d4", "2026-03-04T08:00:00+09:00", "d", "completed"),
            _cp("d5", "2026-03-05T00:00:00Z", "e", "completed"),
            _cp("d6", "2026-03-07T00:00:00Z", "f", "completed"),
            _cp("d7", "2026-03-08T00:00:00Z", "a", "passed"),
        ],
        "onboarding: the latest event wins": [
            _event("o1", "onboarding.completed", day(1), {"pathId": "p1"}),
            _event("o2", "onboarding.reset", day(2)),
            _event("o3", "onboarding.completed", day(3), {"pathId": "p2"}),
            _event("o4", "onboarding.reset", day(4), {}),
            _event("o5", "onboarding.completed", "2026-03-04T10:00:00.5Z", {"pathId": "p3"}),
        ],
        "active path set and cleared": [
            _event("p1", "activePath.set", day(1), {"pathId": "p1"}),
            _event("p2", "activePath.set", day(2), {"pathId": None}),
            _event("p3", "activePath.set", day(3), {"pathId": "p3"}),
        ],
        "courses keep their first completion": [
            _event("c2", "course.completed", day(2), {"courseId": "c1"}),
            _event("c1", "course.completed", day(1), {"courseId": "c1"}),
            _event("c3", "course.completed", day(3), {"courseId": "c.$x"}),
        ],
        "reset clears progress, later events apply on empty": [
            _cp("x1", day(1), "a", "completed", score=7),
            _event("x2", "course.completed", day(1), {"courseId": "c1"}),
            _event("x3", "onboarding.completed", day(1), {"pathId": "p"}),
            _event("x4", "activePath.set", day(1), {"pathId": "p"}),
            _event("x6", "progress.reset", day(2)),
            _cp("x5", day(3), "b", "in_progress"),
            _cp("x7", "2026-03-01T23:59:59.9999999Z", "c", "completed"),
        ],
        "scoped reset clears only its items and its course's claim": [
            _cp("s1", day(1), "ch-1", "completed"),
            _cp("s2", day(1), "ch-2", "completed"),
            _cp("s3", day(1), "other", "completed"),
            _event("s4", "course.completed", day(1), {"courseId": "tut"}),
            _event(
                "s5",
                "progress.reset",
                day(2),
                {"contentIds": ["ch-1", "ch-2", "never-seen"], "courseId": "tut"},
            ),
            _cp("s6", day(3), "ch-1", "in_progress"),
        ],
        "extensions merge per item and at the top, latest wins per key": [
            _media("e1", day(1), "v", 10, extensions={"seekEvents": 1, "speed": 1.5}),
            _media("e2", day(2), "v", 20, extensions={"seekEvents": 4}),
            _event(
                "e3", "activePath.set", day(2), {"pathId": "p", "extensions": {"theme": "dark"}}
            ),
            _event("e4", "progress.reset", day(3), {"extensions": {"reason": "restart"}}),
            _event("e5", "onboarding.reset", day(1), {"extensions": {"a": [1, {"b": None}]}}),
        ],
        "retraction withdraws the events it names wherever they sort": [
            _cp("r1", day(1), "a", "completed", score=9),
            _quiz("r2", day(2), "q", 8, True),
            _event("r9", "events.retracted", day(1), {"eventIds": ["r2", "r3", "r1"]}),
            _cp("r3", day(3), "b", "completed"),
            _cp("r4", day(4), "c", "in_progress"),
        ],
        "ids that look like operators stay values": [
            _cp("$where", day(1), "a.b", "completed"),
            _cp("e.1", day(2), "$set", "in_progress", courseId="c.d"),
        ],
    }


def _random_log(seed: int) -> list[Raw]:
    """A shuffled log of every event type with repeats, offsets and fractions (seeded)."""
    rng = random.Random(seed)
    contents = ["a", "b", "c", "v"]
    events: list[Raw] = []
    for n in range(40):
        minute = rng.randrange(0, 6 * 24 * 60)
        offset = rng.choice(["Z", "+02:00", "-05:30", "+00:00"])
        fraction = rng.choice(["", ".5", ".123456", ".000001"])
        hours, minutes = divmod(minute % (24 * 60), 60)
        at = f"2026-05-{1 + minute // (24 * 60):02d}T{hours:02d}:{minutes:02d}:07{fraction}{offset}"
        content = rng.choice(contents)
        kind = rng.randrange(12)
        event_id = f"r{seed}-{n}"
        if kind < 3:
            status = rng.choice(["not_started", "in_progress", "completed", "passed"])
            events.append(_cp(event_id, at, content, status, score=rng.randrange(0, 100)))
        elif kind < 6:
            duration = rng.choice([None, 0, 100, 250.5])
            extra: dict[str, Any] = {"watchedSeconds": rng.choice([0, 10, 12.25])}
            if duration is not None:
                extra["durationSeconds"] = duration
            events.append(_media(event_id, at, content, rng.choice([5, 50, 91, 240, 300]), **extra))
        elif kind < 8:
            events.append(_quiz(event_id, at, content, rng.randrange(0, 11), rng.random() < 0.3))
        elif kind == 8:
            events.append(
                _event(
                    event_id,
                    "content.rated",
                    at,
                    {"contentId": content, "rating": rng.choice(["easy", "hard"])},
                )
            )
        elif kind == 9:
            events.append(
                _event(event_id, "course.completed", at, {"courseId": rng.choice(["c1", "c2"])})
            )
        elif kind == 10:
            events.append(
                _event(event_id, "onboarding.completed", at, {"pathId": rng.choice(["p1", "p2"])})
            )
        else:
            events.append(_event(event_id, rng.choice(["progress.reset", "onboarding.reset"]), at))
    events += rng.sample(events, 8)
    rng.shuffle(events)
    return events


def _snapshot(log: list[Raw]) -> dict[str, Any]:
    recorded = [
        RecordedEvent(
            tenant_id=TENANT,
            user_id=USER,
            received_at=FAR_FUTURE,
            event=validate_event(raw, now=FAR_FUTURE),
        )
        for raw in log
    ]
    return reduce(recorded, tenant_id=TENANT, user_id=USER).to_api()


def build() -> dict[str, Any]:
    """Every vector: its name, the log in storage order, and the snapshot `reduce` gives."""
    logs = _hand_written() | {f"random log {seed}": _random_log(seed) for seed in range(1, 9)}
    return {
        "tenantId": TENANT,
        "userId": USER,
        "vectors": [
            {"name": name, "events": log, "snapshot": _snapshot(log)} for name, log in logs.items()
        ],
    }


def render() -> str:
    """The vectors file's exact text."""
    return json.dumps(build(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    """Write the vectors file."""
    VECTORS_PATH.parent.mkdir(parents=True, exist_ok=True)
    VECTORS_PATH.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Valid statements to start each xAPI test from, and a way to change one property."""

from __future__ import annotations

import copy
from typing import Any

ACTOR = {"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.com"}
VERB = {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}}
ACTIVITY = {
    "objectType": "Activity",
    "id": "https://example.com/courses/rust/lesson-1",
    "definition": {
        "name": {"en-US": "Lesson 1", "de": "Lektion 1"},
        "description": {"en-US": "Ownership"},
        "type": "http://adlnet.gov/expapi/activities/lesson",
    },
}
STATEMENT_ID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"


def statement(**overrides: Any) -> dict[str, Any]:
    """A complete valid statement; keyword arguments replace top-level properties."""
    body: dict[str, Any] = {
        "id": STATEMENT_ID,
        "actor": copy.deepcopy(ACTOR),
        "verb": copy.deepcopy(VERB),
        "object": copy.deepcopy(ACTIVITY),
        "result": {
            "score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10},
            "success": True,
            "completion": True,
            "response": "done",
            "duration": "PT4M30.5S",
            "extensions": {"https://example.com/ext/attempt": 2},
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"mbox": "mailto:ben@example.com"},
            "team": {"objectType": "Group", "member": [{"mbox": "mailto:cy@example.com"}]},
            "contextActivities": {"parent": {"id": "https://example.com/courses/rust"}},
            "language": "en-US",
            "statement": {"objectType": "StatementRef", "id": STATEMENT_ID},
            "extensions": {"https://example.com/ext/device": "phone"},
        },
        "timestamp": "2026-01-28T15:00:00.000Z",
        "attachments": [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/certificate",
                "display": {"en-US": "Certificate"},
                "contentType": "application/pdf",
                "length": 12345,
                "sha2": "a" * 64,
            }
        ],
    }
    body.update(overrides)
    return body


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the property at dotted `path` set (or removed when `value` is
    `REMOVE`); list items are addressed as `name[0]`."""
    result = copy.deepcopy(body)
    parts = path.replace("[", ".[").split(".")
    target: Any = result
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    last = parts[-1]
    key: Any = int(last[1:-1]) if last.startswith("[") else last
    if value is REMOVE:
        del target[key]
    else:
        target[key] = value
    return result


REMOVE = object()

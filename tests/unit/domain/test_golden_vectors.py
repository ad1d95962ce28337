"""The committed golden vectors for the TypeScript reducer are what the Python reducer says."""

from __future__ import annotations

import json

from shared.domain import EVENT_TYPES
from tests.golden_vectors import VECTORS_PATH, build, render


def test_the_committed_vectors_are_current() -> None:
    assert VECTORS_PATH.exists(), "run `python -m tests.golden_vectors`"
    assert VECTORS_PATH.read_text(encoding="utf-8") == render(), (
        "clients/golden/reducer-vectors.json is stale: run `python -m tests.golden_vectors`"
    )


def test_the_vectors_cover_every_event_type_and_the_hard_cases() -> None:
    vectors = build()["vectors"]
    types = {event["type"] for vector in vectors for event in vector["events"]}
    assert len(types) == len(EVENT_TYPES)
    names = " ".join(vector["name"] for vector in vectors)
    cases = ("out of order", "duplicates", "reset", "90 %", "quiz", "streak", "onboarding")
    for case in (*cases, "scoped reset", "extensions", "retraction"):
        assert case in names
    assert any(vector["snapshot"]["eventCount"] > 20 for vector in vectors)


def test_the_file_is_plain_json() -> None:
    assert json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]

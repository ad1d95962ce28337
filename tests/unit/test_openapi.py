"""The committed OpenAPI document is the one the code generates, and it shows every event type."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.gateway.examples import EVENT_EXAMPLES
from services.gateway.openapi import OPENAPI_PATH, render
from shared.domain import EVENT_TYPES, validate_event


def test_committed_openapi_document_is_current() -> None:
    assert OPENAPI_PATH.read_text() == render(), (
        "docs/openapi.json is stale: run `.venv/bin/python -m services.gateway.openapi`"
    )


def test_every_event_type_has_an_example_and_a_schema() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    examples = document["paths"]["/v1/users/{userId}/progress"]["put"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    assert set(EVENT_TYPES) <= set(examples)
    assert set(EVENT_EXAMPLES) == set(EVENT_TYPES)
    union = document["components"]["schemas"]["ProgressEvent"]["oneOf"]
    assert len(union) == len(EVENT_TYPES)


def test_examples_are_valid_events() -> None:
    later = datetime(2030, 1, 1, tzinfo=UTC)
    for event_type, example in EVENT_EXAMPLES.items():
        assert validate_event(example, now=later).type == event_type

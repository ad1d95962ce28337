"""The committed JSON Schema is current (the layering is checked by import-linter)."""

from __future__ import annotations

from shared.domain import EVENT_TYPES
from shared.domain.schema_export import SCHEMA_PATH, contract_schema, render


def test_committed_schema_is_current() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    assert committed == render(), (
        f"{SCHEMA_PATH.name} is stale: run `python -m shared.domain.schema_export` and commit it"
    )


def test_schema_covers_the_ten_types() -> None:
    schema = contract_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["discriminator"]["mapping"]) == set(EVENT_TYPES)
    progressed = schema["$defs"]["ContentProgressed"]
    assert progressed["additionalProperties"] is False
    assert set(progressed["required"]) == {"eventId", "occurredAt", "clientId", "type", "payload"}

"""The event contract as JSON Schema, generated from the models.

`docs/event-contract.schema.json` is this module's output, committed; regenerate it with
`python -m shared.domain.schema_export` after changing the contract (a unit test fails while
it is stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from .events import ProgressEvent
from .recorded import RecordedEvent
from .wire import SERVER_FIELDS

__all__ = [
    "SCHEMA_PATH",
    "contract_schema",
    "main",
    "recorded_event_schema",
    "relocated",
    "render",
    "with_fields",
]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "event-contract.schema.json"
"""Where the committed schema lives."""


def contract_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of one event as an app sends it: the union of the ten types."""
    schema = TypeAdapter[ProgressEvent](ProgressEvent).json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Progress Sync event",
        "description": (
            "One progress event as an app sends it (PUT /v1/users/{userId}/progress). "
            "Every ID is 1-128 printable characters without whitespace. The server rejects "
            "an occurredAt more than 5 minutes ahead of its clock, and records the accepted "
            "event with tenantId, userId and receivedAt added to the same JSON object."
        ),
        **schema,
    }


def relocated(node: Any, target: str = "#/components/schemas/") -> Any:
    """The schema with its local `#/$defs/` references pointed at `target` (OpenAPI, AsyncAPI)."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", target)
                if key == "$ref" and isinstance(value, str)
                else relocated(value, target)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [relocated(item, target) for item in node]
    return node


def with_fields(schema: dict[str, Any], fields: tuple[str, ...], prefix: str) -> dict[str, Any]:
    """The contract `schema` with the server `fields` added to every event type.

    Each type `T` gets a copy `{prefix}T` whose properties and required fields include the
    named fields, typed as `RecordedEvent` types them; the union refers to the copies.
    """
    server = RecordedEvent.model_json_schema(by_alias=True)["properties"]
    definitions = dict(schema["$defs"])
    mapping: dict[str, str] = {}
    for tag, reference in schema["discriminator"]["mapping"].items():
        name = reference.rsplit("/", 1)[-1]
        variant = dict(definitions[name])
        variant["properties"] = {
            **variant["properties"],
            **{field: server[field] for field in fields},
        }
        variant["required"] = [*variant.get("required", []), *fields]
        variant["title"] = f"{prefix}{name}"
        definitions[f"{prefix}{name}"] = variant
        mapping[tag] = f"#/$defs/{prefix}{name}"
    return {
        **{key: value for key, value in schema.items() if key not in ("$defs", "oneOf")},
        "$defs": definitions,
        "oneOf": [{"$ref": reference} for reference in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }


def recorded_event_schema() -> dict[str, Any]:
    """JSON Schema of an accepted event as on Kafka and in the log.

    One flat object: the event's fields and the server's (`tenantId`, `userId`, `receivedAt`).
    """
    recorded = with_fields(contract_schema(), SERVER_FIELDS, "Recorded")
    recorded["title"] = "RecordedEvent"
    recorded["description"] = (
        "An accepted event: the app's event plus the fields the gateway adds. Kafka key "
        "`tenantId/userId`."
    )
    return recorded


def render() -> str:
    """The schema file's exact text: indented, sorted keys, final newline."""
    return json.dumps(contract_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write `render()` to `SCHEMA_PATH`."""
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()

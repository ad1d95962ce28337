"""The gateway's OpenAPI document, with each event described by the contract's JSON Schema.

`docs/openapi.json` is this module's output, committed; regenerate it with
`python -m services.gateway.openapi` (a test fails while it is stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.domain import EVENT_TYPES
from shared.domain.schema_export import contract_schema

__all__ = ["OPENAPI_PATH", "build_openapi", "main", "render"]

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _relocate(node: Any) -> Any:
    """Point the contract's local `$defs` references at OpenAPI components."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _relocate(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_relocate(item) for item in node]
    return node


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the event contract added and referenced by the write bodies."""
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    contract = _relocate(contract_schema())
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(contract.pop("$defs"))
    components["ProgressEvent"] = {
        "title": "ProgressEvent",
        "description": contract["description"],
        "oneOf": contract["oneOf"],
        "discriminator": contract["discriminator"],
    }
    event_ref = {"$ref": "#/components/schemas/ProgressEvent"}
    components["UserWriteRequest"]["properties"]["events"]["items"] = event_ref
    components["UserWriteRequest"]["properties"]["events"]["maxItems"] = 500
    bulk_item = {
        "type": "object",
        "description": "A ProgressEvent (see that schema) with the `userId` it belongs to.",
        "required": ["userId", "eventId", "occurredAt", "clientId", "type"],
        "properties": {
            "userId": {"type": "string", "minLength": 1, "maxLength": 128},
            "eventId": {"type": "string", "minLength": 1, "maxLength": 128},
            "occurredAt": {"type": "string", "format": "date-time"},
            "clientId": {"type": "string", "minLength": 1, "maxLength": 128},
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "payload": {"type": "object"},
        },
    }
    components["BulkWriteRequest"]["properties"]["events"]["items"] = bulk_item
    components["BulkWriteRequest"]["properties"]["events"]["maxItems"] = 500
    return document


def render() -> str:
    """The committed file's exact text."""
    from services.gateway.app import create_app
    from shared.adapters.settings import Settings

    return json.dumps(build_openapi(create_app(Settings())), indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write `render()` to `OPENAPI_PATH`."""
    OPENAPI_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")


if __name__ == "__main__":
    main()

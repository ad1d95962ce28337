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

from shared.domain.schema_export import contract_schema, relocated, with_fields
from shared.domain.wire import MAX_EVENTS_PER_REQUEST

__all__ = ["OPENAPI_PATH", "build_openapi", "main", "render"]

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the event contract added and referenced by the write bodies."""
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    contract = relocated(contract_schema())
    for_user = relocated(with_fields(contract_schema(), ("userId",), "ForUser"))
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(for_user.pop("$defs"))
    components["ProgressEvent"] = {
        "title": "ProgressEvent",
        "description": contract["description"],
        "oneOf": contract["oneOf"],
        "discriminator": contract["discriminator"],
    }
    components["ProgressEventForUser"] = {
        "title": "ProgressEventForUser",
        "description": "A ProgressEvent with the `userId` it belongs to (POST /v1/events).",
        "oneOf": for_user["oneOf"],
        "discriminator": for_user["discriminator"],
    }
    for name, item in (
        ("UserWriteRequest", "ProgressEvent"),
        ("BulkWriteRequest", "ProgressEventForUser"),
    ):
        events = components[name]["properties"]["events"]
        events["items"] = {"$ref": f"#/components/schemas/{item}"}
        events["maxItems"] = MAX_EVENTS_PER_REQUEST
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

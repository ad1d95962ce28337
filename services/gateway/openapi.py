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

from shared.domain import Snapshot
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
    _type_the_snapshot(components)
    _secure_and_describe_errors(document)
    document["info"]["description"] = _DESCRIPTION
    return document


_DESCRIPTION = (
    "Apps send immutable progress events (`PUT /v1/users/{userId}/progress`, or many users' "
    "at once with `POST /v1/events`); each event is validated on its own and answered for in "
    "the 202. Reads serve the user's snapshot (a pure function of the set of their events) "
    "and the events after a cursor. Events are idempotent by eventId: resending is always "
    "safe. Retry 429/503 after `Retry-After`, other 5xx and timeouts with backoff, split on "
    "413, never drop an event for a 5xx or a timeout. The repository's docs/ has the whole "
    "integration guide."
)

_NOT_IN_API = {
    "Snapshot": ("lastEventId", "retracted"),
    "ItemProgress": ("passedAt", "firstActivityAt", "lastActivityAt"),
    "MediaProgress": ("lastReportedAt",),
    "CourseProgress": ("lastClaimedAt",),
}
"""Bookkeeping the stored snapshot keeps and the API leaves out (`Snapshot.to_api`)."""

_ERRORS = {
    "400": "Malformed JSON, or a `waitFor` that is not this user's consistency token",
    "401": "Missing, unknown or expired credential",
    "403": "Wrong tenant, user or scope",
    "410": "The user was erased (code `erased`)",
    "413": "Body over 1 MiB or over 500 events: split and resend",
    "415": "The body is not application/json",
    "422": "A malformed envelope, parameter or body; `field` names it",
    "429": "Rate limited: resend after `Retry-After` seconds",
    "503": "Kafka or MongoDB unavailable: resend after `Retry-After` (safe, events are idempotent)",
}
_WRITE_ONLY = {"410", "413", "415"}


def _type_the_snapshot(components: dict[str, Any]) -> None:
    """`ProgressPage.snapshot` as the API's snapshot (its parts prefixed `Snapshot`)."""
    schema = Snapshot.model_json_schema(by_alias=True, mode="serialization")
    schema = relocated(schema, "#/components/schemas/Snapshot")
    parts = {f"Snapshot{name}": part for name, part in schema.pop("$defs").items()}
    for name, definition in [("Snapshot", schema), *parts.items()]:
        for hidden in _NOT_IN_API.get(name.removeprefix("Snapshot") or name, ()):
            definition["properties"].pop(hidden, None)
        components[name] = definition
    components["ProgressPage"]["properties"]["snapshot"] = {"$ref": "#/components/schemas/Snapshot"}


def _secure_and_describe_errors(document: dict[str, Any]) -> None:
    """Bearer security on the API routes, and every error status with the error body."""
    components = document["components"]
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenant API key (`psk_...`) or a user token (HS256 JWT).",
        }
    }
    components["schemas"]["Error"] = {
        "title": "Error",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            }
        },
    }
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            operation["security"] = [{"bearer": []}]
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                if status in _WRITE_ONLY and method not in ("put", "post", "delete"):
                    continue
                entry = responses.setdefault(status, {"description": description})
                entry["content"] = error_body


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

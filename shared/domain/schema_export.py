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

__all__ = ["SCHEMA_PATH", "contract_schema", "main", "render"]

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


def render() -> str:
    """The schema file's exact text: indented, sorted keys, final newline."""
    return json.dumps(contract_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write `render()` to `SCHEMA_PATH`."""
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()

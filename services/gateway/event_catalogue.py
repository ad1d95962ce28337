"""`docs/events.md`: the event catalogue, one example per type, generated from the contract.

Regenerate with `python -m services.gateway.event_catalogue` (a test fails while it is stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from services.gateway.examples import EVENT_EXAMPLES
from shared.domain import EVENT_TYPES, ProgressEvent

__all__ = ["CATALOGUE_PATH", "main", "render"]

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.md"

_INTRO = """# Event catalogue

Every event an app sends has the same envelope: `eventId` (1-128 printable characters
without whitespace; sending the same eventId again is a no-op), `occurredAt` (RFC 3339 with
an offset; more than 5 minutes in the future is clamped to the receive time), `clientId`
(the device or installation), `type`, and a `payload` of that type. Every payload may also
carry `extensions`: app-defined values (at most 4 KiB of JSON, 8 levels deep) kept in the log
and in the snapshot, never interpreted. The JSON Schema of all of them is
[`event-contract.schema.json`](event-contract.schema.json); what each does to the snapshot is
in [`snapshot.md`](snapshot.md).

This page is generated from the contract (`python -m services.gateway.event_catalogue`).
"""


def _models() -> dict[str, Any]:
    members = get_args(get_args(ProgressEvent)[0])
    return {get_args(m.model_fields["type"].annotation)[0]: m for m in members}


def render() -> str:
    """The page's exact text."""
    models = _models()
    parts = [_INTRO]
    for event_type in EVENT_TYPES:
        model = models[event_type]
        payload = model.model_fields["payload"].annotation
        fields = ", ".join(f"`{f.alias or name}`" for name, f in payload.model_fields.items())
        example = json.dumps(EVENT_EXAMPLES[event_type], indent=2)
        parts.append(
            f"## `{event_type}`\n\n{(model.__doc__ or '').strip()}\n\n"
            f"Payload fields: {fields}.\n\n```json\n{example}\n```\n"
        )
    return "\n".join(parts)


def main() -> None:
    """Write `render()` to `CATALOGUE_PATH`."""
    CATALOGUE_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {CATALOGUE_PATH}")


if __name__ == "__main__":
    main()

"""The one error the contract raises for invalid input, and its translation from pydantic."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

__all__ = ["ContractViolation", "violation_from"]

_MAX_QUOTED_ID = 128


class ContractViolation(ValueError):
    """An event, or a recorded event, that breaks the contract.

    Attributes:
        field: Dotted path of the offending field inside the event (`payload.contentId`,
            `occurredAt`, `type`, `tenantId`), or None when the whole input is wrong.
        message: What is wrong, for humans.
        event_id: The eventId of the offending event when it could be read, else None.
    """

    def __init__(self, field: str | None, message: str, event_id: str | None = None) -> None:
        self.field = field
        self.message = message
        self.event_id = event_id
        super().__init__(field, message, event_id)

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        if self.event_id is None:
            return f"{where}{self.message}"
        shown = self.event_id
        if len(shown) > _MAX_QUOTED_ID:
            shown = shown[:_MAX_QUOTED_ID] + "…"
        return f"event {shown!r}: {where}{self.message}"


def violation_from(
    error: ValidationError, raw: object, *, event_types: Iterable[str]
) -> ContractViolation:
    """Turn pydantic's report on one event into a `ContractViolation` naming its first problem.

    Args:
        error: What pydantic found; only its first error is kept.
        raw: The input that failed, read only for its `eventId`.
        event_types: The known event types, listed when the type is missing or unknown.
    """
    event_id = raw.get("eventId") if isinstance(raw, dict) else None
    if not isinstance(event_id, str):
        event_id = None
    first = error.errors(include_url=False, include_input=False)[0]
    kind = first["type"]
    known = ", ".join(event_types)
    if kind == "union_tag_invalid":
        tag = raw.get("type") if isinstance(raw, dict) else None
        return ContractViolation(
            "type", f"unknown event type {tag!r}; known types: {known}", event_id=event_id
        )
    if kind == "union_tag_not_found":
        return ContractViolation("type", f"Field required; known types: {known}", event_id=event_id)
    if kind == "model_attributes_type" and not first["loc"]:
        return ContractViolation(None, "an event must be a JSON object", event_id=event_id)
    loc = [str(part) for part in first["loc"]]
    # A discriminated union reports the member's tag first: ("content.progressed", "payload", ...).
    if loc and isinstance(raw, dict) and loc[0] == raw.get("type"):
        loc = loc[1:]
    return ContractViolation(".".join(loc) or None, first["msg"], event_id=event_id)

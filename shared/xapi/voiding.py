"""Voiding (Data 2.3.2): which statement a voiding statement voids, and what to retract.

DESIGN: "xAPI voiding is a retraction event that removes the eventIds it names before the
fold". The service, on storing a voiding statement, looks up the voided statement (for its
user) and emits that retraction with `retracted_event_ids`.
"""

from __future__ import annotations

from typing import Any

from .progress import SLOTS, event_id
from .statement import VOIDED

__all__ = ["is_voidable", "retracted_event_ids", "voided_statement_id"]


def voided_statement_id(statement: dict[str, Any]) -> str | None:
    """The id of the statement a (validated) statement voids; None if it voids none."""
    target = statement["object"]
    if statement["verb"]["id"] != VOIDED or target.get("objectType") != "StatementRef":
        return None
    voided: str = target["id"]
    return voided


def is_voidable(target: dict[str, Any]) -> bool:
    """Whether a stored statement can be voided: a voiding statement cannot (Data 2.3.2.s2.b3).

    A voiding statement whose target is itself a voiding statement is stored, but voids
    nothing and retracts nothing.
    """
    return bool(target["verb"]["id"] != VOIDED)


def retracted_event_ids(voided_id: str) -> list[str]:
    """Every eventId a statement with id `voided_id` can have derived, one per slot.

    Naming each slot, not only those the current rules derive, keeps a voiding correct after
    a tenant changed its mapping rules; an id that was never derived removes nothing.
    """
    return [event_id(voided_id, slot) for slot in SLOTS]

"""Identifier types of the event contract.

An ID is opaque text chosen by the apps. It may contain `.` and `$`, so no layer may ever use
one as a MongoDB field name or operator: IDs only appear as values (see `Snapshot.to_storage`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from .wire import ID_MAX_LENGTH

__all__ = ["ID_MAX_LENGTH", "Id", "TenantId", "is_valid_id"]


def is_valid_id(value: str) -> bool:
    """Tell whether `value` is a valid `Id`: 1-128 printable characters, none of them whitespace.

    Meant for path parameters such as `{userId}`, which are checked before any model is built.
    """
    return 0 < len(value) <= ID_MAX_LENGTH and value.isprintable() and " " not in value


def _check_id(value: str) -> str:
    # `str.isprintable` rejects every whitespace character except the ASCII space.
    if value.isprintable() and " " not in value:
        return value
    raise PydanticCustomError("id_format", "ID must be printable characters without whitespace")


Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ID_MAX_LENGTH),
    AfterValidator(_check_id),
    Field(json_schema_extra={"pattern": r"^\S+$"}),
]
"""An app-chosen identifier (eventId, contentId, courseId, pathId, interactionId, userId,
clientId): 1-128 printable characters without whitespace; `.` and `$` are allowed."""

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
"""A tenant name: 1-64 of `[a-z0-9_-]`, so a Kafka key `tenant/user` splits at the first `/`."""

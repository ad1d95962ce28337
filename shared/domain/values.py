"""Value types shared by the event contract and the snapshot: times, days, amounts, labels.

Each type accepts exactly what JSON carries (strings for times and days, numbers for amounts) or
the matching Python value, and nothing that a lax parser would coerce (no Unix timestamps, no
numeric strings, no booleans as numbers).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "COMPLETE_STATUSES",
    "MAX_AMOUNT",
    "STATUS_RANK",
    "Amount",
    "ContentVersion",
    "Day",
    "Omittable",
    "Rating",
    "Status",
    "Timestamp",
]

_T = TypeVar("_T")


def _is_none(value: object) -> bool:
    return value is None


Omittable = Annotated[_T | None, Field(exclude_if=_is_none)]
"""An optional field: absent or null means "not given", and None is left out of the JSON."""

Status = Literal["not_started", "in_progress", "completed", "passed"]
"""Progress of one item, in ascending precedence."""

STATUS_RANK: dict[str, int] = {"not_started": 0, "in_progress": 1, "completed": 2, "passed": 3}
"""Precedence of each status: a status never moves to a lower rank."""

COMPLETE_STATUSES = frozenset({"completed", "passed"})
"""The statuses that count as done (completedAt, streak)."""

MAX_AMOUNT = 1_000_000_000
"""Upper bound of each score, position and duration an event carries (1e9 s is 31 years)."""

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _timestamp_input(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "rfc3339",
        "Input should be an RFC 3339 timestamp with a UTC offset, e.g. 2026-01-28T15:30:00Z",
    )


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_range", "Timestamp is out of range") from None


Timestamp = Annotated[
    AwareDatetime,
    Strict(False),
    BeforeValidator(_timestamp_input),
    AfterValidator(_to_utc),
]
"""A point in time: an RFC 3339 string with offset (or an aware datetime), normalised to UTC."""


def _day_input(value: object) -> object:
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and _ISO_DAY.fullmatch(value)
    ):
        return value
    raise PydanticCustomError("iso_day", "Input should be a date as YYYY-MM-DD")


Day = Annotated[date, Strict(False), BeforeValidator(_day_input)]
"""A calendar day: a `YYYY-MM-DD` string or a date."""


def _amount(value: object) -> int | float:
    # Compared as numbers, never converted: a 400-digit integer must not overflow a float.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_AMOUNT:
        return value
    if isinstance(value, float) and math.isfinite(value) and 0 <= value <= MAX_AMOUNT:
        return value
    raise PydanticCustomError(
        "amount", "Input should be a finite number from 0 to {max}", {"max": MAX_AMOUNT}
    )


Amount = Annotated[
    int | float,
    PlainValidator(_amount),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_AMOUNT}),
]
"""A non-negative, finite JSON number (int or float kept as sent; `true` is not a number)."""


def _printable(value: str) -> str:
    if value.isprintable():
        return value
    raise PydanticCustomError("printable", "Text must not contain control characters")


Rating = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(_printable)]
"""A short rating label chosen by the app, e.g. `easy`, `perfect`, `hard`."""

ContentVersion = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_printable)
]
"""The app's version tag of a content item, e.g. `v1`."""

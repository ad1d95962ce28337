"""Checks of single JSON values inside a statement, each failing with the value's path.

The statement, agent and activity validators are written with these, so that every failure
reads the same way: `InvalidStatement(path, "<what it must be> (<spec section>)")`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Any, NoReturn

from .errors import InvalidStatement
from .formats import is_iri, is_language_tag, is_uuid, parse_timestamp

__all__ = [
    "at",
    "check_array",
    "check_bool",
    "check_extensions",
    "check_iri",
    "check_language_map",
    "check_number",
    "check_object",
    "check_objects",
    "check_params",
    "check_string",
    "check_timestamp",
    "check_uuid",
    "fail",
    "index",
]

JsonObject = dict[str, Any]


def check_params(
    params: Mapping[str, str],
    known: Collection[str],
    resource: str,
    section: str,
    required: Collection[str] = (),
) -> None:
    """Fail on the first query parameter a resource does not know, then on a missing one.

    Names are case-sensitive, as the specification says.
    """
    for name in params:
        if name not in known:
            fail(name, f"is not a parameter of the {resource} Resource ({section})")
    for name in required:
        if name not in params:
            fail(name, f"is required ({section})")


def at(path: str, key: str) -> str:
    """The path of property `key` inside the value at `path`."""
    return f"{path}.{key}" if path else key


def index(path: str, position: int) -> str:
    """The path of item `position` inside the array at `path`."""
    return f"{path}[{position}]"


def fail(path: str, rule: str) -> NoReturn:
    """Raise the validation error for `path`."""
    raise InvalidStatement(path, rule)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def check_object(
    value: object,
    path: str,
    section: str,
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
) -> JsonObject:
    """A JSON object with only `allowed` keys (case-sensitive) and every `required` one.

    Unknown keys are refused (Data 2.2.s4.b1.b5, b7), so a wrongly cased key is too.
    """
    if not isinstance(value, dict):
        fail(path, f"must be an object, got {_kind(value)} ({section})")
    for key in value:
        if key not in allowed:
            fail(at(path, key), f"is not an allowed property here ({section}, Data 2.2.s4.b1.b7)")
    for key in required:
        if key not in value:
            fail(at(path, key), f"is required ({section})")
    return value


def check_string(value: object, path: str, section: str) -> str:
    """A JSON string (null and other types refused, Data 2.2.s4.b1)."""
    if not isinstance(value, str):
        fail(path, f"must be a string, got {_kind(value)} ({section})")
    return value


def check_iri(value: object, path: str, section: str) -> str:
    """A string holding an absolute IRI (Data 2.2.s4.b1.b4, b8)."""
    text = check_string(value, path, section)
    if not is_iri(text):
        fail(path, f"must be an absolute IRI with a scheme ({section})")
    return text


def check_uuid(value: object, path: str, section: str) -> str:
    """A string holding a UUID in standard form (Data 4.4)."""
    text = check_string(value, path, section)
    if not is_uuid(text):
        fail(path, f"must be a UUID in standard string form ({section}, Data 4.4)")
    return text


def check_timestamp(value: object, path: str, section: str) -> datetime:
    """A string holding an ISO 8601 timestamp (Data 4.5); returns the parsed instant."""
    text = check_string(value, path, section)
    parsed = parse_timestamp(text)
    if parsed is None:
        fail(path, f"must be an ISO 8601 timestamp with a known offset ({section}, Data 4.5)")
    return parsed


def check_bool(value: object, path: str, section: str) -> bool:
    """A JSON boolean (the string "true" is refused, Data 2.2.s4.b1.b3)."""
    if not isinstance(value, bool):
        fail(path, f"must be a boolean, got {_kind(value)} ({section})")
    return value


def check_number(value: object, path: str, section: str) -> float:
    """A finite JSON number (a numeric string is refused, Data 2.2.s4.b1.b2)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        fail(path, f"must be a number, got {_kind(value)} ({section})")
    return float(value)


def check_array(value: object, path: str, section: str, *, non_empty: bool = False) -> list[Any]:
    """A JSON array, optionally with at least one item."""
    if not isinstance(value, list):
        fail(path, f"must be an array, got {_kind(value)} ({section})")
    if non_empty and not value:
        fail(path, f"must not be empty ({section})")
    return value


def check_objects(
    value: object,
    path: str,
    section: str,
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
) -> Iterator[tuple[str, JsonObject]]:
    """Each member of a JSON array of objects (see `check_object`), with its path."""
    for position, entry in enumerate(check_array(value, path, section)):
        entry_path = index(path, position)
        yield (
            entry_path,
            check_object(entry, entry_path, section, allowed=allowed, required=required),
        )


def check_language_map(value: object, path: str, section: str) -> JsonObject:
    """An object whose keys are RFC 5646 language tags and values strings (Data 4.2)."""
    if not isinstance(value, dict):
        fail(path, f"must be a language map (an object), got {_kind(value)} ({section}, Data 4.2)")
    for tag, text in value.items():
        if not is_language_tag(tag):
            fail(at(path, tag), f"is not an RFC 5646 language tag ({section}, Data 2.2.s4.b2)")
        check_string(text, at(path, tag), f"{section}, Data 4.2")
    return value


def check_extensions(value: object, path: str, section: str) -> JsonObject:
    """An object whose keys are IRIs; the values are free, null included (Data 4.1)."""
    if not isinstance(value, dict):
        fail(path, f"must be an object, got {_kind(value)} ({section}, Data 4.1)")
    for key in value:
        if not is_iri(key):
            fail(path, f"key {key!r} is not an IRI ({section}, Data 4.1.s3.b1)")
    return value

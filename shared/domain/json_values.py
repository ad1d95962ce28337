"""App-defined JSON values (interaction states, extensions): bounded in size and depth.

Anything a client may nest is measured before it is accepted, without recursion, so that no
stored value can later be too deep for a reader (the JSON parser that reads snapshots back
refuses nesting deeper than 200 levels; the stdlib one recurses).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticCustomError

__all__ = ["MAX_JSON_DEPTH", "bounded_object", "json_depth"]

MAX_JSON_DEPTH = 8
"""Deepest nesting of an app-defined value: `{"a": [1]}` has depth 2."""


def json_depth(value: object, limit: int = MAX_JSON_DEPTH) -> int:
    """The nesting depth of a decoded JSON value, counted up to `limit + 1` at most.

    Iterative, so a hostile value of any depth costs no recursion; scalars have depth 0.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def bounded_object(value: dict[str, Any], max_bytes: int, what: str) -> dict[str, Any]:
    """Check an app-defined object's depth and encoded size; raise a pydantic error if over.

    Args:
        value: The decoded object.
        max_bytes: Largest compact UTF-8 JSON encoding allowed.
        what: What the value is, for the message (`State`, `Extensions`).
    """
    if json_depth(value) > MAX_JSON_DEPTH:
        raise PydanticCustomError(
            "json_depth",
            "{what} must be nested at most {max} levels deep",
            {"what": what, "max": MAX_JSON_DEPTH},
        )
    try:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise PydanticCustomError(
            "json_object", "{what} must be a JSON object", {"what": what}
        ) from None
    if len(encoded.encode()) > max_bytes:
        raise PydanticCustomError(
            "json_size",
            "{what} must be at most {max} bytes of JSON",
            {"what": what, "max": max_bytes},
        )
    return value

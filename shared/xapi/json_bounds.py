"""Reading client JSON in the xAPI rules: statements, documents and JWS parts nest at most 32.

ADL's suite nests 8 or 9 levels; 32 leaves room for real extensions while keeping every
recursive walk (validation, equivalence, copies, pydantic's reader with its own 200-level
bound) far from Python's recursion limit, so a deeper value is a 400, never a 500.
"""

from __future__ import annotations

from shared.domain.json_text import json_depth

from .errors import InvalidStatement

__all__ = ["MAX_XAPI_DEPTH", "check_depth"]

MAX_XAPI_DEPTH = 32
"""Deepest nesting of `[`/`{` in a statement batch, a JSON document or a JWS part."""


def check_depth(text: bytes, path: str, what: str) -> None:
    """Refuse a JSON text nesting deeper than `MAX_XAPI_DEPTH`, before any parser reads it.

    The depth is counted on the text in linear time, so no parser recursion can fail first.

    Raises:
        InvalidStatement: At `path`, naming `what` and the bound.
    """
    if json_depth(text) > MAX_XAPI_DEPTH:
        raise InvalidStatement(path, f"{what} nests deeper than {MAX_XAPI_DEPTH} levels")

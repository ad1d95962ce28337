"""How deeply a JSON text nests, measured without parsing it (so without recursion).

The standard library's parser recurses once per level and gives up with a RecursionError
near 1,000 levels; pydantic's stops at 200. Measuring first lets the gateway refuse a deep
body with a clear 400 before any parser or serializer can fail on it.
"""

from __future__ import annotations

import re
from itertools import accumulate

__all__ = ["MAX_BODY_DEPTH", "json_depth"]

MAX_BODY_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have (the envelope included)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = [0] * 256
for _open in b"[{":
    _STEP[_open] = 1
for _close in b"]}":
    _STEP[_close] = -1


def json_depth(text: bytes) -> int:
    """The deepest nesting of `[`/`{` in a JSON text, brackets inside strings not counted.

    Linear in the text's length and done by C loops (regex, translate, accumulate), so a
    1 MiB body costs milliseconds. For text that is not JSON the figure is meaningless but
    finite; the parser that runs next reports such text as malformed.
    """
    brackets = _STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets)), default=0))

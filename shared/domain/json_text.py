r"""Checks on a JSON text before it is parsed: its nesting depth and lone surrogates.

The standard library's parser recurses once per level and gives up with a RecursionError
near 1,000 levels; pydantic's stops at 200. It also turns an unpaired `\\uD800` escape into
a string that cannot be encoded as UTF-8 again, so echoing it back or publishing it fails.
Checking the text first lets the gateway refuse either with a clear 400 before any parser
or serializer can fail on it.
"""

from __future__ import annotations

import re
from itertools import accumulate

__all__ = ["MAX_BODY_DEPTH", "has_lone_surrogate", "json_depth"]

MAX_BODY_DEPTH = 768
"""Deepest nesting of arrays and objects a request body may have (the envelope included).

Well under the ~1,000 levels the standard library's parser survives, and well over the
domain's own bound on values (8), so a value nested too deep is rejected with its event
alone, while a body no parser could take is refused whole.
"""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
# Escapes that are fine, removed in one left-to-right pass: any escape but \u (a doubled
# backslash is one escape, so an escaped backslash before "uD800" is no surrogate), a \u
# outside the surrogate range, and a high surrogate followed by a low one. A surrogate
# escape still left afterwards is unpaired.
_FINE_ESCAPES = re.compile(
    rb"\\[^u]|\\u(?![dD][89a-fA-F])[0-9a-fA-F]{4}"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
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


def has_lone_surrogate(text: bytes) -> bool:
    """True when a JSON text escapes a UTF-16 surrogate that is not part of a pair.

    Such a string is not Unicode text: it cannot be encoded as UTF-8, so it could be
    neither echoed back nor published. Done by C loops; most texts skip the second pass.
    """
    if _SURROGATE.search(text) is None:
        return False
    return _SURROGATE.search(_FINE_ESCAPES.sub(b"", text)) is not None

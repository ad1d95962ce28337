"""Hypothesis strategies for hostile request bodies, as raw bytes.

Bodies start from a route's own seeds (its OpenAPI examples, or an instance built from its
schema) with one to three values replaced, or are arbitrary JSON or garbage. A replaced
value is a generated JSON value or a *fragment*: JSON text that Python's encoder cannot
produce (deep nesting, duplicate keys, huge number literals, NaN, lone surrogates, raw
control characters, strings near the 1 MiB body limit), spliced into the encoded text.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["bodies", "fuzz_text"]

MIB = 1024 * 1024
_MARK = "\x00chaos-fragment-{}\x00"

fuzz_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=40) | st.sampled_from(
    ["", " ", "$where", "a.b", "\u202e", "\ufeff", "x" * 200, "\x00", "\U0001d54f"]
)
"""Short strings from all of Unicode, lone surrogates and control characters included."""

_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 1e308, -1e-308, 2**53 + 1, 10**30]),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, fuzz_text)
json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(fuzz_text, children, max_size=6)
    ),
    max_leaves=30,
)
"""Arbitrary (shallow) JSON values."""


@st.composite
def _deep(draw: st.DrawFn) -> str:
    depth = draw(
        st.sampled_from([64, 128, 200, 220, 240, 256, 300, 1000, 1100, 5000, 100_000])
        | st.integers(1, 600)
    )
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"state":', "}")]))
    return opener * depth + "1" + closer * depth


@st.composite
def _wide(draw: st.DrawFn) -> str:
    width = draw(st.sampled_from([1000, 10_000, 50_000]) | st.integers(0, 20_000))
    if draw(st.booleans()):
        return "{" + ",".join(f'"k{n}":{n}' for n in range(width)) + "}"
    return "[" + ",".join("0" for _ in range(width)) + "]"


@st.composite
def _duplicate_keys(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(["eventId", "type", "events", "userId", "payload", "a"]))
    first, second = draw(json_values), draw(json_values)
    return (
        "{" + f"{json.dumps(key)}:{json.dumps(first)},{json.dumps(key)}:{json.dumps(second)}" + "}"
    )


@st.composite
def _long_string(draw: st.DrawFn) -> str:
    length = draw(st.integers(MIB - 4096, MIB + 64))
    unit = draw(st.sampled_from(["x", "é", "\\u0000", "\U0001d54f"]))
    return '"' + unit * max(1, length // len(unit.encode())) + '"'


_literals = st.sampled_from(
    [
        "1e999999",
        "-1e999999",
        "1" * 5000,
        "-0",
        "0.0000000000000000000000000001",
        "NaN",
        "Infinity",
        "-Infinity",
        '"\\ud800"',
        '"\\udfff\\ud800"',
        '"a\x01\x1fb"',
        '"\\u0000"',
        '"\t\n"',
        "true",
        "[]",
        "{}",
    ]
)
_fragments = st.one_of(_deep(), _wide(), _duplicate_keys(), _long_string(), _literals)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _replace(node[head], rest, value)}
    copy = list(node)
    copy[head] = _replace(copy[head], rest, value)
    return copy


def _fresh_ids(node: Any, tag: str) -> Any:
    """The seed with every eventId made new, so a mutated event is not a resend of a seed."""
    if isinstance(node, dict):
        return {
            key: f"{value}-{tag}"
            if key == "eventId" and isinstance(value, str)
            else _fresh_ids(value, tag)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_fresh_ids(item, tag) for item in node]
    return node


@st.composite
def _mutated(draw: st.DrawFn, seeds: list[Any], most: int) -> bytes:
    body = _fresh_ids(draw(st.sampled_from(seeds)), draw(st.uuids()).hex[:12])
    fragments: list[str] = []
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from(sorted(_paths(body), key=len, reverse=True)))
        fragment = draw(_fragments) if draw(st.booleans()) else None
        size = sum(len(f.encode("utf-8", "surrogatepass")) for f in [*fragments, fragment or ""])
        if fragment is not None and size <= MIB:
            fragments.append(fragment)  # at most about one near-limit string per body
            value: Any = _MARK.format(len(fragments) - 1)
        else:
            value = draw(json_values)
        body = _replace(body, path, value)
    ascii_only = draw(st.booleans())
    text = json.dumps(body, ensure_ascii=ascii_only)
    for index, fragment in enumerate(fragments):
        marker = json.dumps(_MARK.format(index), ensure_ascii=ascii_only)
        text = text.replace(marker, fragment, 1)
    return text.encode("utf-8", "surrogatepass")


def _events_of(body: Any) -> list[dict[str, Any]]:
    events = body.get("events") if isinstance(body, dict) else None
    return [e for e in events or [] if isinstance(e, dict) and isinstance(e.get("payload"), dict)]


@st.composite
def _slotted(draw: st.DrawFn, seeds: list[Any]) -> bytes:
    """A well-formed write whose app-defined value (interaction state, extensions) is hostile.

    These are the values the contract lets clients shape freely, so the ones that pass
    validation and reach the projector and the stored snapshot.
    """
    body = _fresh_ids(draw(st.sampled_from(seeds)), draw(st.uuids()).hex[:12])
    events = _events_of(body)
    if not events:
        return json.dumps(body).encode()
    event = draw(st.sampled_from(events))
    fragment = draw(_deep() | _fragments)
    if draw(st.booleans()):
        event["type"] = "content.progressed"
        event["payload"] = {
            "contentId": "fuzz-item",
            "status": "in_progress",
            "interaction": {"interactionId": "fuzz-q", "state": {"v": _MARK.format(0)}},
        }
    else:
        event["payload"] = {**event["payload"], "extensions": {"v": _MARK.format(0)}}
    text = json.dumps(body).replace(json.dumps(_MARK.format(0)), fragment, 1)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def _garbage(draw: st.DrawFn, seeds: list[Any]) -> bytes:
    seed = _fresh_ids(draw(st.sampled_from(seeds)), draw(st.uuids()).hex[:12])
    whole = json.dumps(seed).encode()
    kind = draw(st.sampled_from(["truncated", "binary", "bom", "latin1", "empty", "fragment"]))
    if kind == "truncated":
        return whole[: draw(st.integers(0, max(0, len(whole) - 1)))]
    if kind == "binary":
        return draw(st.binary(max_size=200))
    if kind == "bom":
        return b"\xef\xbb\xbf" + whole
    if kind == "latin1":
        return whole.replace(b'"', b'"\xe9', 1)
    if kind == "empty":
        return b""
    return draw(_fragments).encode("utf-8", "surrogatepass")


def bodies(seeds: list[Any]) -> st.SearchStrategy[bytes]:
    """Hostile bodies for a route whose valid bodies look like `seeds`."""
    seeds = seeds or [{}]
    plain = json_values.map(lambda value: json.dumps(value).encode("utf-8", "surrogatepass"))
    return st.one_of(
        _mutated(seeds, 1),
        _slotted(seeds),
        _slotted(seeds),
        _mutated(seeds, 3),
        plain,
        _garbage(seeds),
    )

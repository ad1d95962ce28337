"""The gateway's checks on raw JSON text agree with what the parser makes of the text."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.json_text import has_lone_surrogate, json_depth

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@given(JSON_VALUES)
def test_depth_of_the_text_is_the_depth_of_the_value(value: Any) -> None:
    assert json_depth(json.dumps(value).encode()) == depth(value)


@given(st.lists(st.sampled_from(["a", "\\\\", "\\n", "\\ud83d", "\\ude00", "\\u0041"])))
def test_a_lone_surrogate_is_found_exactly_when_the_string_is_not_unicode(
    parts: list[str],
) -> None:
    text = '["' + "".join(parts) + '"]'
    try:
        json.loads(text)[0].encode()
        lone = False
    except UnicodeEncodeError:
        lone = True
    assert has_lone_surrogate(text.encode()) == lone

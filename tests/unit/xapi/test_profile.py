"""A tenant's xAPI profile: its JSON form, and `tenant xapi --set` under hostile input."""

from __future__ import annotations

import json

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from services.progressctl.cli import app
from services.progressctl.tenant_xapi import parse_profile
from shared.xapi import UserRule, XapiProfile

pytestmark = pytest.mark.unit

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def test_defaults_answer_versionless_requests_in_2_0_0() -> None:
    """XAPI-00331: a tenant that set nothing answers in the newest version served."""
    assert XapiProfile().default_version == "2.0.0"
    assert XapiProfile().users == UserRule()


def test_the_profile_round_trips_through_its_camel_case_json() -> None:
    """What `--set` takes is what `tenant xapi` prints and the tenant document stores."""
    profile = XapiProfile.model_validate({"defaultVersion": "1.0.3", "users": {"mbox": "ignore"}})
    dumped = profile.model_dump(mode="json", by_alias=True)
    assert dumped["defaultVersion"] == "1.0.3"
    assert XapiProfile.model_validate(dumped) == profile


@pytest.mark.parametrize(
    "text",
    [
        '{"defaultVersion": "0.9"}',
        '{"colour": "red"}',
        "[]",
        "{",
        '{"users": {"mbox": 1}}',
        "[" * 5000,
    ],
)
def test_a_bad_profile_is_a_usage_error_naming_the_problem(text: str) -> None:
    """Refused before the database is touched: exit 2, the field named, no traceback."""
    result = CliRunner().invoke(app, ["tenant", "xapi", "demo", "--set", text])
    assert result.exit_code == 2
    assert "--set" in result.output


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), _JSON.map(json.dumps)))
def test_any_text_either_parses_or_is_a_usage_error(text: str) -> None:
    """Hostile `--set` values (the command's one free-form input) never escape as a crash."""
    try:
        parsed = parse_profile(text)
    except typer.BadParameter:
        return
    assert isinstance(parsed, XapiProfile)

"""A tenant's actor-to-userId rule (issue 18: per-tenant rules for `account` and `mbox`)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.xapi import MappingRules, UserRule, user_id_for

pytestmark = pytest.mark.unit

LMS = "https://lms.example.com"
ANA_SHA1 = hashlib.sha1(b"mailto:ana@example.com").hexdigest()


@pytest.mark.parametrize(
    ("actor", "rule", "user"),
    [
        ({"account": {"homePage": LMS, "name": "u-42"}}, UserRule(), "u-42"),
        (
            {"account": {"homePage": "https://other.example.com", "name": "u-42"}},
            UserRule(account_home_pages=(LMS,)),
            None,
        ),
        (
            {"account": {"homePage": LMS, "name": "u-42"}},
            UserRule(account_home_pages=("https://hr.example.com", LMS)),
            "u-42",
        ),
        (
            {"account": {"homePage": LMS, "name": "u-42"}},
            UserRule(account="homePageAndName"),
            f"{LMS}|u-42",
        ),
        (
            {"account": {"homePage": "https://x.example", "name": "u"}},
            UserRule(account="ignore"),
            None,
        ),
        ({"mbox": "mailto:Ana@Example.COM"}, UserRule(), "Ana@example.com"),
        ({"mbox": "mailto:ana@example.com"}, UserRule(mbox="ignore"), None),
        ({"mbox": "mailto:ana@example.com"}, UserRule(mbox="sha1"), ANA_SHA1),
        ({"mbox_sha1sum": ANA_SHA1.upper()}, UserRule(mbox="sha1"), ANA_SHA1),
        ({"mbox_sha1sum": ANA_SHA1}, UserRule(), None),
        ({"openid": "https://id.example.com/ana"}, UserRule(), None),
        ({"openid": "https://id.example.com/ana"}, UserRule(mbox="sha1"), None),
        ({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}, UserRule(), None),
        ({"account": {"homePage": "https://x.example", "name": "has space"}}, UserRule(), None),
        (
            {"account": {"homePage": "https://x.example/" + "p" * 120, "name": "u"}},
            UserRule(account="homePageAndName"),
            None,
        ),
    ],
)
def test_actor_to_user_rules(actor: dict[str, Any], rule: UserRule, user: str | None) -> None:
    """Each option of the rule for account, mbox and mbox_sha1sum; Groups and openid never map."""
    assert user_id_for(actor, rule) == user


@given(st.emails())
def test_with_sha1_an_mbox_and_its_sha1sum_are_the_same_user(address: str) -> None:
    """Data 2.4.2.3: `mbox_sha1sum` is the SHA-1 of the `mbox` IRI; both name one person."""
    rule = UserRule(mbox="sha1")
    mbox = f"mailto:{address}"
    digest = hashlib.sha1(mbox.encode()).hexdigest()
    assert user_id_for({"mbox": mbox}, rule) == user_id_for({"mbox_sha1sum": digest}, rule)


def test_user_rule_reads_camel_case_settings() -> None:
    """A tenant's rule is stored as JSON with camelCase keys (its xAPI profile)."""
    rule = MappingRules.model_validate(
        {
            "users": {"accountHomePages": [LMS], "account": "homePageAndName", "mbox": "sha1"},
            "clientId": "lrs",
        }
    )
    assert rule.users == UserRule(account_home_pages=(LMS,), account="homePageAndName", mbox="sha1")
    assert rule.client_id == "lrs"

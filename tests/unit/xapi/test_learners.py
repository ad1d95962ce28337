"""The learner-binding rule of user tokens on /xapi (issue 23, item 3)."""

from __future__ import annotations

import json

import pytest

from shared.xapi import (
    NotTheLearner,
    UserRule,
    check_document_learner,
    check_learner,
    check_voidable_by,
    parse_profile_params,
    parse_state_params,
)

pytestmark = pytest.mark.unit

HOME = "https://lms.example.com"
ANA = {"account": {"homePage": HOME, "name": "ana"}}


def test_an_agent_passes_only_when_it_maps_to_the_learner() -> None:
    check_learner(ANA, UserRule(), "ana", "actor")
    check_learner({"mbox": "mailto:ana@Example.com"}, UserRule(), "ana@example.com", "actor")
    group = {"objectType": "Group", "member": [ANA]}
    for agent in (ANA, {"openid": "https://id.example/ana"}, group, None):
        with pytest.raises(NotTheLearner) as refused:
            check_learner(agent, UserRule(), "bob", "[3].actor")
        assert refused.value.path == "[3].actor"


def test_an_account_outside_the_home_pages_is_refused_by_name() -> None:
    """`accountHomePages` lists the systems a user token's accounts may belong to."""
    rule = UserRule(account_home_pages=(HOME,))
    check_learner(ANA, rule, "ana", "actor")
    elsewhere = {"account": {"homePage": "https://other.example", "name": "ana"}}
    with pytest.raises(NotTheLearner, match="accountHomePages"):
        check_learner(elsewhere, rule, "ana", "actor")


def test_only_the_learners_own_statements_may_be_voided() -> None:
    check_voidable_by("ana", "ana", "[0].object.id")
    for owner in ("bob", None):
        with pytest.raises(NotTheLearner):
            check_voidable_by(owner, "ana", "[0].object.id")


def test_documents_name_the_learner_and_activity_profiles_are_read_only() -> None:
    state = {"activityId": HOME, "agent": json.dumps(ANA), "stateId": "s"}
    check_document_learner(parse_state_params("PUT", state), "PUT", UserRule(), "ana")
    with pytest.raises(NotTheLearner) as refused:
        check_document_learner(parse_state_params("GET", state), "GET", UserRule(), "bob")
    assert refused.value.path == "agent"
    profile = parse_profile_params(
        "activity_profile", "GET", {"activityId": HOME, "profileId": "p"}
    )
    check_document_learner(profile, "GET", UserRule(), "ana")
    for method in ("PUT", "POST", "DELETE"):
        with pytest.raises(NotTheLearner):
            check_document_learner(profile, method, UserRule(), "ana")

"""A tenant's actor-to-userId rule applied by the Statement and State writes.

Issue 18: "the actor becomes the userId (per-tenant rules for account and mbox)". The rule
is the tenant's profile; the userId is kept with each statement and State document (erasure
finds them by it) and owns the derived events.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from shared.service_layer.xapi.documents import Documents, Preconditions
from shared.service_layer.xapi.quotas import XapiQuotas
from shared.xapi import MappingRules, UserRule, parse_state_params
from tests.fakes import FixedClock, InMemoryDocumentStore, InMemoryUsageStore
from tests.unit.service_layer.xapi_world import ID_1, ID_2, World, statement

pytestmark = pytest.mark.unit

ANA = "mailto:ana@example.com"
ANA_SHA1 = hashlib.sha1(ANA.encode()).hexdigest()
SHA1_RULES = MappingRules(users=UserRule(mbox="sha1"))


async def test_with_sha1_an_mbox_and_an_mbox_sha1sum_are_one_user() -> None:
    """Data 2.4.2.3: both identify Ana; her progress and records are under one userId."""
    world = World(SHA1_RULES)
    await world.post(statement(ID_1, actor={"mbox": ANA}))
    await world.post(statement(ID_2, actor={"mbox_sha1sum": ANA_SHA1}))
    assert {record.user_id for record in world.store.statements.values()} == {ANA_SHA1}
    assert world.published() == [
        (ANA_SHA1, f"xapi:{ID_1}:content"),
        (ANA_SHA1, f"xapi:{ID_2}:content"),
    ]


async def test_accounts_of_an_unlisted_home_page_are_stored_without_a_user() -> None:
    """`accountHomePages`: another system's account is kept as a record, credits no one."""
    world = World(MappingRules(users=UserRule(account_home_pages=("https://lms.example.com",))))
    other = {"account": {"homePage": "https://other.example.com", "name": "ana"}}
    await world.post(statement(ID_1, actor=other))
    assert world.published() == []
    assert [record.user_id for record in world.store.statements.values()] == [None]


async def test_home_page_and_name_keeps_two_systems_users_apart() -> None:
    """`account: homePageAndName`: the same name on two systems is two users."""
    world = World(MappingRules(users=UserRule(account="homePageAndName")))
    for sid, home in ((ID_1, "https://a.example"), (ID_2, "https://b.example")):
        await world.post(statement(sid, actor={"account": {"homePage": home, "name": "ana"}}))
    assert [user for user, _ in world.published()] == [
        "https://a.example|ana",
        "https://b.example|ana",
    ]


async def test_a_state_document_is_kept_under_the_tenants_user() -> None:
    """Communication 2.3 (State): the agent's document belongs to the user the rule names."""
    store = InMemoryDocumentStore()
    agent = {"mbox": ANA}
    params = {"activityId": "https://example.com/a1", "agent": json.dumps(agent), "stateId": "s"}
    documents = Documents(
        store, InMemoryDocumentStore(), FixedClock(), InMemoryUsageStore(), XapiQuotas()
    )
    await documents.write(
        "demo",
        "PUT",
        parse_state_params("PUT", params),
        b"{}",
        "application/json",
        Preconditions(None, None, "2.0.0"),
        SHA1_RULES.users,
    )
    assert [user for user, _ in store.documents.values()] == [ANA_SHA1]

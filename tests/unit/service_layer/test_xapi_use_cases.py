"""The xAPI use cases on the in-memory fakes: storing, conflicts, voiding, paging, State.

Each test names the specification requirement it covers (xAPI 1.0.3 / 2.0.0 sections).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import pytest

from shared.service_layer.xapi.documents import Preconditions
from shared.service_layer.xapi.erased_learners import UserErased
from shared.service_layer.xapi.statements import StatementConflict
from shared.xapi import (
    DocumentConflict,
    InvalidStatement,
    UserRule,
    parse_profile_params,
    parse_state_params,
    parse_statement_query,
)
from tests.unit.service_layer.xapi_world import AUTHORITY, ID_1, ID_2, World, statement, voiding

pytestmark = pytest.mark.unit


async def test_a_posted_statement_is_stored_with_what_the_lrs_sets_and_derives_events() -> None:
    """Communication 2.1.2 (POST), Data 2.4.8-2.4.10 (stored, authority, version)."""
    world = World()
    assert await world.post(statement()) == [ID_1]
    found = await world.reads.one("demo", parse_statement_query({"statementId": ID_1}))
    assert found is not None
    assert found.statement["authority"] == AUTHORITY
    assert found.statement["version"] == "1.0.0"
    assert found.statement["stored"] == found.statement["timestamp"] == "2026-11-20T10:00:00.000Z"
    assert world.published() == [("ana@example.com", f"xapi:{ID_1}:content")]


async def test_an_identical_resend_stores_nothing_and_republishes() -> None:
    """Communication 2.1.1.s2: same id, same statement: a no-op (DESIGN "xAPI resends")."""
    world = World()
    await world.post(statement())
    await world.post([statement()])
    assert len(world.store.statements) == 1
    assert world.published() == [("ana@example.com", f"xapi:{ID_1}:content")] * 2


async def test_a_write_costs_its_derived_events_and_a_refused_charge_stores_nothing() -> None:
    """Each user pays one token per event derived for them; the tenant max(1, derived) per
    statement (a statement deriving nothing still costs one); resends pay again."""
    world = World()
    no_progress = statement(ID_2, verb={"id": "https://example.com/verbs/waved"})
    other_user = statement("00000000-0000-4000-8000-000000000003", user="bo")
    await world.post([statement(), no_progress, other_user])
    assert world.charges == [({"ana@example.com": 1, "bo@example.com": 1}, 3)]

    def refuse(users: Mapping[str, int], cost: int) -> None:
        raise RuntimeError("rate limited")

    world.charge = refuse  # type: ignore[method-assign]
    refused_id = "00000000-0000-4000-8000-000000000004"
    with pytest.raises(RuntimeError):
        await world.post(statement(refused_id))
    assert ("demo", refused_id) not in world.store.statements
    assert len(world.published()) == 2


async def test_the_same_id_with_other_content_is_a_conflict_and_stores_nothing() -> None:
    """Communication 2.1.1.s2.b2 / 2.1.2: 409 Conflict; the batch is not stored."""
    world = World()
    await world.post(statement())
    other = statement(verb={"id": "http://adlnet.gov/expapi/verbs/passed"})
    with pytest.raises(StatementConflict):
        await world.post([statement(ID_2), other])
    assert set(world.store.statements) == {("demo", ID_1)}


async def test_a_batch_repeating_an_id_is_refused_by_index() -> None:
    """Communication 2.1.2: a batch with two statements of one id is a 400."""
    with pytest.raises(InvalidStatement) as refused:
        await World().post([statement(ID_2), statement(ID_2.upper())])
    assert refused.value.path == "[1].id"


async def test_voiding_hides_the_statement_and_retracts_its_events() -> None:
    """Data 2.3.2: voided statements are served only by voidedStatementId (Comm. 2.1.4)."""
    world = World()
    await world.post(statement())
    await world.post(voiding(ID_2, ID_1))
    assert await world.reads.one("demo", parse_statement_query({"statementId": ID_1})) is None
    voided = await world.reads.one("demo", parse_statement_query({"voidedStatementId": ID_1}))
    assert voided is not None
    retraction = world.publisher.published[-1][0]
    assert (retraction.user_id, retraction.type) == ("ana@example.com", "events.retracted")
    assert f"xapi:{ID_1}:content" in retraction.event.payload.event_ids  # type: ignore[union-attr]
    page = await world.reads.page("demo", {})
    assert [r.statement_id for r in page.records] == [ID_2]


async def test_pages_follow_more_without_gaps_or_repeats() -> None:
    """Communication 2.1.3 (limit, more) and 2.1.5 (the StatementResult's more IRL)."""
    world = World()
    for _ in range(5):
        await world.post(statement(None))
    seen: list[str] = []
    page = await world.reads.page("demo", {"limit": "2", "ascending": "true"})
    seen += [r.statement_id for r in page.records]
    while page.more:
        page = await world.reads.page("demo", {"more": page.more})
        seen += [r.statement_id for r in page.records]
    assert len(seen) == len(set(seen)) == 5
    stored = [r.stored for r in (await world.reads.page("demo", {"ascending": "true"})).records]
    assert stored == sorted(stored)
    with pytest.raises(InvalidStatement) as refused:
        await world.reads.page("demo", {"more": "not-a-cursor"})
    assert refused.value.path == "more"


async def test_statements_of_an_erased_user_are_refused() -> None:
    """Erasure (DESIGN): nothing of an erased user is stored again; a batch naming one: nothing."""
    world = World()
    await world.tombstones.bury("demo", "ana@example.com")
    with pytest.raises(UserErased) as refused:
        await world.post([statement(ID_2, user="bob"), statement()])
    assert refused.value.field == "actor"
    assert world.store.statements == {}


@pytest.mark.parametrize("resource", ["state", "agent_profile"])
async def test_documents_of_an_erased_user_are_refused(resource: str) -> None:
    """Erasure covers xAPI (DESIGN Wave 3): an erased learner's State and Agent Profile writes."""
    world = World()
    await world.tombstones.bury("demo", "ana@example.com")
    agent = json.dumps({"mbox": "mailto:ana@example.com"})
    if resource == "state":
        address = parse_state_params(
            "PUT", {"activityId": "https://example.com/a1", "agent": agent, "stateId": "s"}
        )
    else:
        address = parse_profile_params("agent_profile", "PUT", {"agent": agent, "profileId": "p"})
    with pytest.raises(UserErased) as refused:
        await world.documents.write(
            "demo",
            "PUT",
            address,
            b"{}",
            "application/json",
            Preconditions(None, None, "2.0.0"),
            UserRule(),
        )
    assert refused.value.field == "agent"
    assert world.state.documents == world.profiles.documents == {}


async def test_attachment_data_is_kept_and_served_with_its_statement() -> None:
    """Communication 1.5.2: attachments by SHA-2; GET with attachments=true serves them."""
    world = World()
    data = b"certificate"
    sha2 = hashlib.sha256(data).hexdigest()
    attachment = {
        "usageType": "http://example.com/usage/certificate",
        "display": {"en-US": "certificate"},
        "contentType": "text/plain",
        "length": len(data),
        "sha2": sha2,
    }
    await world.post(statement(attachments=[attachment]), {sha2: data})
    page = await world.reads.page("demo", {"attachments": "true"})
    assert [(a.sha2, a.data) for a in page.attachments] == [(sha2, data)]
    with pytest.raises(InvalidStatement):
        await world.post(statement(ID_2, attachments=[attachment]))


async def test_state_documents_honour_etags_and_merge_json() -> None:
    """Communication 2.3 (State), 3.1 (concurrency: 412, and 2.0.0's 409 without a header)."""
    documents = World().documents
    agent = {"mbox": "mailto:ana@example.com"}
    params = {"activityId": "https://example.com/a1", "agent": json.dumps(agent), "stateId": "s"}
    address = parse_state_params("PUT", params)
    plain, rule = Preconditions(None, None, "2.0.0"), UserRule()
    first = await documents.write(
        "demo", "PUT", address, b'{"a":1}', "application/json", plain, rule
    )
    with pytest.raises(DocumentConflict) as conflict:
        await documents.write("demo", "PUT", address, b"{}", "application/json", plain, rule)
    assert conflict.value.status == 409
    stale = Preconditions('"nope"', None, "2.0.0")
    with pytest.raises(DocumentConflict) as failed:
        await documents.write("demo", "PUT", address, b"{}", "application/json", stale, rule)
    assert failed.value.status == 412
    merged = await documents.write(
        "demo", "POST", address, b'{"b":2}', "application/json", plain, rule
    )
    assert json.loads(merged.content) == {"a": 1, "b": 2}
    assert merged.etag != first.etag
    assert await documents.ids("demo", parse_state_params("GET", {**params, "stateId": "s"})) == [
        "s"
    ]
    done = Preconditions(merged.etag, None, "2.0.0")
    assert await documents.delete("demo", address, done, rule) == 1
    assert await documents.get("demo", address) is None

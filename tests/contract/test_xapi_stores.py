"""Contracts of the xAPI statement and document stores, real and fake alike."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.service_layer.xapi.ports import (
    Attachment,
    DocumentKey,
    StatementRecord,
    StoredDocument,
    Usage,
)
from shared.xapi import StatementQuery, document_etag, parse_statement_query
from tests.contract.conftest import Stores

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
STATE_KEY = DocumentKey("https://example.com/a", "mbox:mailto:u1@example.com", None, "bookmark")
REGISTRATION = "6b5f8b1e-0c1c-4d0a-9f3e-1a2b3c4d5e6f"
AGENT_PROFILE_KEY = DocumentKey("", "mbox:mailto:u1@example.com", None, "preferences")
ACTIVITY_PROFILE_KEY = DocumentKey("https://example.com/a", "", None, "preferences")


def statement_record(
    user: str,
    *,
    minutes: int = 0,
    verb: str = "http://adlnet.gov/expapi/verbs/completed",
    activity: str = "https://example.com/a",
    statement_id: str | None = None,
) -> StatementRecord:
    stored = AT + timedelta(minutes=minutes)
    statement: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:{user}@example.com"},
        "verb": {"id": verb},
        "object": {"id": activity},
        "context": {
            "registration": REGISTRATION,
            "contextActivities": {"parent": [{"id": "https://example.com/course"}]},
            "extensions": {"https://example.com/ext.with.dots": 1},
        },
        "stored": stored.isoformat(),
    }
    return StatementRecord(statement, stored, user)


def state_document(content: bytes, minutes: int = 0) -> StoredDocument:
    return StoredDocument(
        content, "application/json", document_etag(content), AT + timedelta(minutes=minutes)
    )


async def test_a_statement_id_is_stored_once_and_read_back_as_sent(stores: Stores) -> None:
    first = statement_record("u1")
    assert await stores.statements.insert("demo", [first]) == set()
    again = statement_record("u2", statement_id=first.statement_id)
    other = statement_record("u2")
    assert await stores.statements.insert("demo", [again, other]) == {first.statement_id}
    found = await stores.statements.get_many("demo", [first.statement_id, other.statement_id])
    assert found[first.statement_id] == first
    assert found[other.statement_id].user_id == "u2"
    assert await stores.statements.get_many("elsewhere", [first.statement_id]) == {}


async def test_find_filters_orders_and_pages_by_stored_then_id(stores: Stores) -> None:
    records = [statement_record("u1", minutes=minute) for minute in range(5)]
    records.append(statement_record("u2", minutes=2, verb="http://adlnet.gov/expapi/verbs/passed"))
    await stores.statements.insert("demo", records)
    await stores.statements.void("demo", records[0].statement_id)

    newest = await stores.statements.find("demo", StatementQuery(), None, 3)
    assert [r.stored.minute for r in newest] == [4, 3, 2]
    rest = await stores.statements.find(
        "demo", StatementQuery(), (newest[-1].stored, newest[-1].statement_id), 10
    )
    assert len(newest) + len(rest) == 5, "the voided statement is left out; none repeats"
    assert {r.statement_id for r in newest} & {r.statement_id for r in rest} == set()

    agent = parse_statement_query({"agent": '{"mbox": "mailto:u2@EXAMPLE.com"}'})
    assert [r.user_id for r in await stores.statements.find("demo", agent, None, 10)] == ["u2"]
    passed = StatementQuery(verb="http://adlnet.gov/expapi/verbs/passed")
    assert len(await stores.statements.find("demo", passed, None, 10)) == 1
    course = StatementQuery(activity="https://example.com/course")
    assert await stores.statements.find("demo", course, None, 10) == []
    related = StatementQuery(activity="https://example.com/course", related_activities=True)
    assert len(await stores.statements.find("demo", related, None, 10)) == 5
    window = StatementQuery(since=AT + timedelta(minutes=1), until=AT + timedelta(minutes=3))
    ascending = StatementQuery(since=window.since, until=window.until, ascending=True)
    found = await stores.statements.find("demo", ascending, None, 10)
    assert [r.stored.minute for r in found] == [2, 2, 3]
    registered = StatementQuery(registration=REGISTRATION)
    assert len(await stores.statements.find("demo", registered, None, 10)) == 5
    assert await stores.statements.find("elsewhere", StatementQuery(), None, 10) == []


async def test_attachments_are_kept_once_per_sha2(stores: Stores) -> None:
    kept = Attachment("ab" * 32, "text/plain", b"\x00binary")
    await stores.statements.put_attachments("demo", "u1", [kept])
    await stores.statements.put_attachments("demo", "u1", [kept])
    assert await stores.statements.attachments("demo", ["ab" * 32, "cd" * 32]) == {"ab" * 32: kept}
    assert await stores.statements.attachments("other", ["ab" * 32]) == {}


async def test_state_documents_are_written_by_compare_and_set(stores: Stores) -> None:
    first, second = state_document(b'{"a":1}'), state_document(b'{"a":2}', minutes=5)
    assert await stores.state.get("demo", STATE_KEY) is None
    assert await stores.state.put("demo", STATE_KEY, "u1", first, None) is True
    assert await stores.state.put("demo", STATE_KEY, "u1", second, None) is False
    assert await stores.state.put("demo", STATE_KEY, "u1", second, '"stale"') is False
    assert await stores.state.put("demo", STATE_KEY, "u1", second, first.etag) is True
    assert await stores.state.get("demo", STATE_KEY) == second


async def test_state_ids_and_deletes_stay_within_their_context(stores: Stores) -> None:
    other = DocumentKey(STATE_KEY.activity_id, STATE_KEY.agent, None, "resume")
    registered = DocumentKey(STATE_KEY.activity_id, STATE_KEY.agent, REGISTRATION, "bookmark")
    await stores.state.put("demo", STATE_KEY, "u1", state_document(b"1"), None)
    await stores.state.put("demo", other, "u1", state_document(b"2", minutes=10), None)
    await stores.state.put("demo", registered, "u1", state_document(b"3"), None)
    context = ("demo", STATE_KEY.activity_id, STATE_KEY.agent)
    assert await stores.state.ids(*context, None, None) == ["bookmark", "resume"]
    assert await stores.state.ids(*context, None, AT + timedelta(minutes=1)) == ["resume"]
    assert await stores.state.ids(*context, REGISTRATION, None) == ["bookmark"]
    assert await stores.state.delete(*context, None, "resume") == 1
    assert await stores.state.delete(*context, None, None) == 1
    assert await stores.state.get("demo", registered) is not None


async def test_activity_and_agent_profiles_share_a_store_without_meeting(stores: Stores) -> None:
    """One profile store holds both resources: an empty agent or activity keeps them apart."""
    await stores.profiles.put("demo", AGENT_PROFILE_KEY, "u1", state_document(b"1"), None)
    await stores.profiles.put("demo", ACTIVITY_PROFILE_KEY, None, state_document(b"2"), None)
    agent = ("demo", "", AGENT_PROFILE_KEY.agent)
    activity = ("demo", ACTIVITY_PROFILE_KEY.activity_id, "")
    assert await stores.profiles.ids(*agent, None, None) == ["preferences"]
    assert await stores.profiles.ids(*activity, None, None) == ["preferences"]
    assert await stores.state.get("demo", ACTIVITY_PROFILE_KEY) is None
    assert await stores.profiles.delete(*agent, None, "preferences") == 1
    found = await stores.profiles.get("demo", ACTIVITY_PROFILE_KEY)
    assert found is not None
    assert found.content == b"2"


async def test_a_statement_ref_is_found_by_what_its_target_matches(stores: Stores) -> None:
    target = statement_record("u1", verb="https://example.com/verbs/custom")
    ref = statement_record("admin", verb="http://adlnet.gov/expapi/verbs/voided", minutes=1)
    ref.statement["object"] = {"objectType": "StatementRef", "id": target.statement_id}
    referring = StatementRecord(ref.statement, ref.stored, "admin", target=target.statement)
    await stores.statements.insert("demo", [target, referring])
    custom = StatementQuery(verb="https://example.com/verbs/custom")
    found = await stores.statements.find("demo", custom, None, 10)
    assert [r.statement_id for r in found] == [referring.statement_id, target.statement_id]
    assert found[0].target == target.statement


async def test_a_learners_query_finds_only_statements_stored_for_that_user(
    stores: Stores,
) -> None:
    """`StatementQuery.learner` (a user token's reads) selects by the stored userId."""
    records = [statement_record("u1"), statement_record("u2", minutes=1)]
    await stores.statements.insert("demo", records)
    found = await stores.statements.find("demo", StatementQuery(learner="u1"), None, 10)
    assert [r.statement_id for r in found] == [records[0].statement_id]


async def test_a_signature_status_is_kept_beside_the_statement(stores: Stores) -> None:
    """`signature` is read back as written, and never enters the statement's JSON."""
    signed = replace(statement_record("u1"), signature="unverified")
    plain = statement_record("u1")
    await stores.statements.insert("demo", [signed, plain])
    found = await stores.statements.get_many("demo", [signed.statement_id, plain.statement_id])
    assert found[signed.statement_id].signature == "unverified"
    assert "signature" not in found[signed.statement_id].statement
    assert found[plain.statement_id].signature is None


async def test_attachment_sizes_are_read_without_their_data(stores: Stores) -> None:
    small, large = (Attachment(c * 64, "text/plain", b"x" * n) for c, n in (("a", 3), ("b", 5)))
    await stores.statements.put_attachments("demo", "u1", [small, large])
    sizes = await stores.statements.attachment_sizes("demo", ["a" * 64, "c" * 64])
    assert sizes == {"a" * 64: 3}
    assert await stores.statements.attachment_sizes("other", ["a" * 64]) == {}


async def test_usage_adds_up_per_tenant_and_owner(stores: Stores) -> None:
    """The quota totals: concurrent additions add up, a release subtracts."""
    assert await stores.usage.usage("demo", "user:u1") == Usage()
    await asyncio.gather(
        *(stores.usage.add("demo", "user:u1", "u1", Usage(1, 1, 10)) for _ in range(5))
    )
    await stores.usage.add("demo", "user:u1", "u1", Usage(documents=-2))
    assert await stores.usage.usage("demo", "user:u1") == Usage(5, 3, 50)
    assert await stores.usage.usage("demo", "user:u2") == Usage()
    assert await stores.usage.usage("other", "user:u1") == Usage()

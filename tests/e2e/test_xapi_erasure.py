"""Erasure covers xAPI (issue 23 item 2, DESIGN Wave 3 "Erasure covers xAPI").

An erase deletes the learner's statements, documents and attachments; later xAPI writes
naming them answer 410 `erased` and store nothing, a batch naming them included. The
services refuse to start on the public default erasure secret outside development.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from shared.adapters.mongo import (
    XAPI_ATTACHMENTS,
    XAPI_PROFILES,
    XAPI_STATE,
    XAPI_STATEMENTS,
    mongo_client,
)
from shared.adapters.settings import Settings
from shared.adapters.xapi_document_store import profile_documents, state_documents
from shared.adapters.xapi_statement_store import MongoStatementStore
from shared.service_layer.xapi.ports import Attachment, DocumentKey, StatementRecord, StoredDocument
from tests.e2e.test_operations_cli import documents_of, erase
from tests.e2e.xapi_support import lrs_client, statement_for
from tests.support.services import Stack, service_env

pytestmark = pytest.mark.e2e

XAPI_COLLECTIONS = (XAPI_STATEMENTS, XAPI_ATTACHMENTS, XAPI_STATE, XAPI_PROFILES)
HOME = "https://lms.example.com"


def agent_of(user_id: str) -> str:
    return json.dumps({"account": {"homePage": HOME, "name": user_id}})


async def store_learner(settings: Settings, user_id: str) -> None:
    """A statement with an attachment, a State and an Agent Profile document of the learner.

    Written through the stores, not the gateway: the gateway has then never looked the
    learner up, so its tombstone cache cannot hide the erasure from the writes that follow.
    """
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        now = datetime.now(UTC)
        await MongoStatementStore(db).insert(
            "demo", [StatementRecord(statement_for(user_id), now, user_id)]
        )
        await MongoStatementStore(db).put_attachments(
            "demo", user_id, [Attachment("ab" * 32, "text/plain", b"certificate")]
        )
        document = StoredDocument(b"{}", "application/json", '"e"', now)
        state = DocumentKey("urn:example:au:1", agent_of(user_id), None, "bookmark")
        await state_documents(db).put("demo", state, user_id, document, None)
        profile = DocumentKey("", agent_of(user_id), None, "preferences")
        await profile_documents(db).put("demo", profile, user_id, document, None)
    finally:
        await client.close()


async def xapi_records_of(settings: Settings, user_id: str) -> dict[str, int]:
    counts = await documents_of(settings, "demo", user_id)
    return {name: counts[name] for name in XAPI_COLLECTIONS}


def test_an_erased_learners_xapi_records_are_deleted_and_later_writes_answer_410(
    stack: Stack, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(store_learner(stack.settings, user_id))
    assert set(asyncio.run(xapi_records_of(stack.settings, user_id)).values()) == {1}

    assert erase(stack.settings, monkeypatch, user_id).exit_code == 0
    assert set(asyncio.run(xapi_records_of(stack.settings, user_id)).values()) == {0}

    witness = statement_for(f"{user_id}-witness")
    with lrs_client(stack) as lrs:
        answers = {
            "statement": lrs.post("/statements", json=statement_for(user_id)),
            "batch": lrs.post("/statements", json=[witness, statement_for(user_id)]),
            "state": lrs.put(
                "/activities/state",
                params={
                    "activityId": "urn:example:au:1",
                    "agent": agent_of(user_id),
                    "stateId": "bookmark",
                },
                json={"page": 3},
            ),
            "agent profile": lrs.put(
                "/agents/profile",
                params={"agent": agent_of(user_id), "profileId": "preferences"},
                json={"theme": "dark"},
            ),
        }
        witness_read = lrs.get("/statements", params={"statementId": witness["id"]})
    refused = {
        name: (answer.status_code, answer.json()["error"]["code"], answer.json()["error"]["field"])
        for name, answer in answers.items()
    }
    assert refused == {
        "statement": (410, "erased", "actor"),
        "batch": (410, "erased", "actor"),
        "state": (410, "erased", "agent"),
        "agent profile": (410, "erased", "agent"),
    }
    assert witness_read.status_code == 404, "a batch naming an erased learner stores nothing"
    assert set(asyncio.run(xapi_records_of(stack.settings, user_id)).values()) == {0}


def test_services_refuse_the_public_erasure_secret_outside_development(
    settings: Settings,
) -> None:
    env = service_env(settings)
    del env["PROGRESS_ENVIRONMENT"], env["PROGRESS_ERASURE_SECRET"]
    modules = ("services.gateway", "services.projector", "services.retry_worker")
    started = {  # at once: each spends seconds importing before it refuses
        module: subprocess.Popen(
            [sys.executable, "-m", module], env=env, stderr=subprocess.PIPE, text=True
        )
        for module in modules
    }
    refusals = {}
    for module, process in started.items():
        try:
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        refusals[module] = (process.returncode != 0, "PROGRESS_ERASURE_SECRET" in stderr)
    assert refusals == dict.fromkeys(modules, (True, True))

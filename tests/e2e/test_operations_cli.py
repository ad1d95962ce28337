"""`progressctl erase` and `progressctl status` against the running stack."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from services.progressctl.cli import app
from shared.adapters.embedded import free_port
from shared.adapters.kafka import event_headers
from shared.adapters.mongo import AUDIT, DEAD_LETTERS, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.adapters.user_data_store import USER_DATA
from shared.domain import RecordedEvent, validate_event
from shared.domain.wire import message_key
from tests.support.services import Stack, eventually, service_env, service_process

pytestmark = pytest.mark.e2e


def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    for name, value in service_env(settings).items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, list(args))


def erase(settings: Settings, monkeypatch: pytest.MonkeyPatch, user_id: str, *more: str) -> Any:
    """`progressctl erase` of a demo user, its second sweep at once (no write races it here)."""
    at_once = settings.model_copy(
        update={"auth_cache_seconds": 0, "erasure_sweep_margin_seconds": 0}
    )
    return cli(at_once, monkeypatch, "erase", "--tenant", "demo", "--user", user_id, "--yes", *more)


def event(event_id: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "ops-test",
        "type": "quiz.attempted",
        "payload": {"contentId": "quiz-1", "score": 3, "maxScore": 5, "passed": False},
    }


async def documents_of(settings: Settings, tenant: str, user: str) -> dict[str, int]:
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        return {
            name: await db[name].count_documents({tenant_field: tenant, user_field: user})
            for name, (tenant_field, user_field) in USER_DATA.items()
        }
    finally:
        await client.close()


async def add_dead_letter(settings: Settings, user: str) -> None:
    client = mongo_client(settings)
    try:
        await client[settings.mongo_database][DEAD_LETTERS].insert_one(
            {
                "_id": uuid.uuid4().hex,
                "tenant": "demo",
                "user": user,
                "reason": "test",
                "raw": b"{}",
            }
        )
    finally:
        await client.close()


async def last_audit(settings: Settings) -> dict[str, Any]:
    client = mongo_client(settings)
    try:
        found = await client[settings.mongo_database][AUDIT].find({}).sort("at", -1).to_list(1)
        return dict(found[0])
    finally:
        await client.close()


def test_erase_forgets_the_user_everywhere(
    stack: Stack, api: httpx.Client, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/v1/users/{user_id}/progress"
    api.put(url, json={"events": [event("q-1"), event("q-2")]})
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 2 else None)
    asyncio.run(add_dead_letter(stack.settings, user_id))
    before = asyncio.run(documents_of(stack.settings, "demo", user_id))
    assert before["events"] == 2
    assert before["snapshots"] == 1
    assert before["dead_letters"] == 1

    result = erase(stack.settings, monkeypatch, user_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["events"] == 2
    assert set(asyncio.run(documents_of(stack.settings, "demo", user_id)).values()) == {0}
    audit = asyncio.run(last_audit(stack.settings))
    assert audit["action"] == "erase"
    assert audit["tenant"] == "demo"
    assert user_id not in json.dumps(audit, default=str)

    body = api.get(url, params={"since": "0"}).json()
    assert body["snapshot"]["items"] == {}
    assert body["snapshot"]["eventCount"] == 0
    assert body["events"] == []
    assert body["cursor"] == "0"


async def publish(settings: Settings, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
    await producer.start()
    try:
        for index in range(count):
            parsed = validate_event(event(f"lag-{uuid.uuid4().hex}-{index}"), now=datetime.now(UTC))
            recorded = RecordedEvent(
                tenant_id="demo", user_id="lag-user", received_at=datetime.now(UTC), event=parsed
            )
            headers = [(k, v.encode()) for k, v in event_headers("lag-test").items()]
            await producer.send_and_wait(
                EVENTS_TOPIC,
                recorded.to_json(),
                key=message_key("demo", "lag-user"),
                headers=headers,
            )
    finally:
        await producer.stop()


def test_status_reports_the_lag_a_stopped_projector_leaves(
    stack: Stack, workdir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = f"stopped-{uuid.uuid4().hex[:8]}"
    own = stack.settings.model_copy(
        update={"projector_group": group, "projector_port": stack.settings.projector_port}
    )
    side = stack.settings.model_copy(update={"projector_group": group, "projector_port": 0})

    side = side.model_copy(update={"projector_port": free_port()})
    projector = service_process(
        side, "lag-projector", "services.projector", side.projector_port, workdir / "logs"
    )
    projector.start(timeout=60)
    try:
        asyncio.run(publish(stack.settings, 1))

        def caught_up() -> bool | None:
            done = cli(own, monkeypatch, "status", "--json")
            report = json.loads(done.output.strip().splitlines()[-1])
            return True if report["projectorLagTotal"] == 0 else None

        eventually(caught_up, timeout=60, interval=1)
    finally:
        projector.stop()
    asyncio.run(publish(stack.settings, 7))
    done = cli(own, monkeypatch, "status", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output.strip().splitlines()[-1])
    assert report["projectorLagTotal"] == 7
    assert set(report["retryTierDepth"]) == {"1s", "5s", "15s", "60s"}
    assert report["services"] == {"gateway": "ready", "projector": "ready", "retry-worker": "ready"}
    assert isinstance(report["deadLetters"], int)

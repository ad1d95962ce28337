"""Erased stays erased: a tombstone refuses the user's writes, and in-flight events are dropped."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.adapters.kafka import event_headers
from shared.adapters.mongo import EVENTS, SNAPSHOTS, TOMBSTONES, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain import RecordedEvent, validate_event
from shared.domain.wire import message_key
from tests.e2e.test_operations_cli import cli, erase, event
from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


async def publish_directly(settings: Settings, user: str, event_id: str) -> None:
    """An event already past the gateway (in a topic, a retry tier or a device's outbox)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
    await producer.start()
    try:
        parsed = validate_event(event(event_id), now=datetime.now(UTC))
        recorded = RecordedEvent(
            tenant_id="demo", user_id=user, received_at=datetime.now(UTC), event=parsed
        )
        headers = [(k, v.encode()) for k, v in event_headers("erasure-test").items()]
        await producer.send_and_wait(
            EVENTS_TOPIC, recorded.to_json(), key=message_key("demo", user), headers=headers
        )
    finally:
        await producer.stop()


async def stored(settings: Settings, user: str) -> dict[str, Any]:
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        tombstones = await db[TOMBSTONES].find({}).to_list()
        return {
            "events": await db[EVENTS].count_documents({"t": "demo", "u": user}),
            "snapshots": await db[SNAPSHOTS].count_documents({"t": "demo", "u": user}),
            "tombstones": json.dumps(tombstones, default=str),
        }
    finally:
        await client.close()


def test_an_erased_user_stays_erased_until_an_operator_reenables_them(
    stack: Stack, api: httpx.Client, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/v1/users/{user_id}/progress"
    assert api.put(url, json={"events": [event("q-1")]}).status_code == 202
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 1 else None)

    erased = erase(stack.settings, monkeypatch, user_id)
    assert erased.exit_code == 0, erased.output

    def refused_now() -> httpx.Response | None:  # the gateway's cache may lag by its ttl
        answer = api.put(url, json={"events": [event("q-2")]})
        return answer if answer.status_code == 410 else None

    refused = eventually(refused_now, timeout=30, interval=1)
    assert refused.json()["error"]["code"] == "erased"
    witness = f"witness-{uuid.uuid4().hex[:8]}"
    bulk = api.post(
        "/v1/events",
        json={"events": [{**event("q-3"), "userId": user_id}, {**event("w-1"), "userId": witness}]},
    ).json()
    assert [(r["status"], r.get("code")) for r in bulk["results"]] == [
        ("rejected", "erased"),
        ("accepted", None),
    ]

    asyncio.run(publish_directly(stack.settings, user_id, "in-flight-1"))
    asyncio.run(publish_directly(stack.settings, witness, "w-2"))
    witness_url = f"/v1/users/{witness}/progress"
    eventually(lambda: True if api.get(witness_url).json()["snapshot"]["eventCount"] == 2 else None)
    after = asyncio.run(stored(stack.settings, user_id))
    assert (after["events"], after["snapshots"]) == (0, 0)
    assert user_id not in after["tombstones"]

    back = cli(stack.settings, monkeypatch, "reenable", "--tenant", "demo", "--user", user_id)
    assert back.exit_code == 0, back.output

    def accepted() -> bool | None:
        return True if api.put(url, json={"events": [event("q-4")]}).status_code == 202 else None

    eventually(accepted, timeout=30, interval=1)
    again = cli(stack.settings, monkeypatch, "reenable", "--tenant", "demo", "--user", user_id)
    assert again.exit_code == 1

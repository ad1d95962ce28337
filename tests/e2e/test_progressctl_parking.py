"""Ctrl-C on `make run` loses nothing accepted, although its broker keeps messages in memory.

Events waiting in a retry tier are parked in MongoDB when the stack stops and put back on
their tier, headers and all, when it starts again; an event due in the meantime is then
applied, one due later keeps waiting. Nothing is lost or doubled over stops and starts.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from shared.adapters.mongo import PARKED
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC, tier_topic
from shared.service_layer.message_headers import (
    HEADER_ATTEMPT,
    HEADER_DUE_AT,
    HEADER_ERROR,
    HEADER_ERROR_HISTORY,
    HEADER_FIRST_FAILED_AT,
    HEADER_ORIGINAL_OFFSET,
    HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_TOPIC,
)
from shared.service_layer.retry_schedule import RETRY_TIERS
from tests.support.progressctl_run import RunningStack, running_stack, stack_env
from tests.support.retry_stack import Message, _publish, _read, progressed
from tests.support.services import eventually

pytestmark = pytest.mark.e2e

# A tier's worker holds its head message until due (messages of one tier fall due in the
# order they were written), so the long wait and the short one go on different tiers.
LATER_TIER, SOON_TIER = tier_topic(RETRY_TIERS[-1]), tier_topic(RETRY_TIERS[-2])
API_KEY = "demo-api-key-change-me"


def waiting_in_tier(event_id: str, user: str, due_in: timedelta) -> Message:
    """An event that failed three times and waits on a tier until `due_in` from now."""
    message = progressed(event_id, user, f"lesson-{event_id}")
    failed = datetime.now(UTC) - timedelta(minutes=2)
    history = [{"attempt": n, "error": "boom", "at": failed.isoformat()} for n in (1, 2, 3)]
    headers = {
        **message.headers,
        HEADER_ATTEMPT: "3",
        HEADER_ERROR: "boom",
        HEADER_ERROR_HISTORY: json.dumps(history),
        HEADER_ORIGINAL_TOPIC: EVENTS_TOPIC,
        HEADER_ORIGINAL_PARTITION: "0",
        HEADER_ORIGINAL_OFFSET: "7",
        HEADER_FIRST_FAILED_AT: failed.isoformat(),
        HEADER_DUE_AT: (datetime.now(UTC) + due_in).isoformat(),
    }
    return replace(message, headers=headers)


def settings_of(stack: RunningStack) -> Settings:
    return Settings(
        kafka_bootstrap=stack.env["PROGRESS_KAFKA_BOOTSTRAP"],
        mongo_url=stack.env["PROGRESS_MONGO_URL"],
    )


def items_of(stack: RunningStack, user: str) -> dict[str, object] | None:
    gateway = f"http://127.0.0.1:{stack.env['PROGRESS_GATEWAY_PORT']}"
    answer = httpx.get(
        f"{gateway}/v1/users/{user}/progress", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert answer.status_code == 200, answer.text
    items: dict[str, object] = answer.json()["snapshot"]["items"]
    return items or None


def on_tier(stack: RunningStack, topic: str) -> list[Message]:
    """The messages on a tier's topic, without their coordinates."""
    return [
        replace(message, partition=-1, offset=-1)
        for message in asyncio.run(_read(settings_of(stack), topic))
    ]


def parked_count(stack: RunningStack) -> int:
    with MongoClient(stack.env["PROGRESS_MONGO_URL"]) as client:
        return client["progress"][PARKED].count_documents({})


def test_events_waiting_in_a_retry_tier_survive_stops_and_starts(tmp_path: Path) -> None:
    env = stack_env(tmp_path)

    with running_stack(env) as first:
        later = waiting_in_tier("later", "u-later", due_in=timedelta(hours=1))
        soon = waiting_in_tier("soon", "u-soon", due_in=timedelta(seconds=20))
        asyncio.run(_publish(settings_of(first), LATER_TIER, (later,)))
        asyncio.run(_publish(settings_of(first), SOON_TIER, (soon,)))
        assert items_of(first, "u-soon") is None  # not due yet
        assert first.stop() == 0
    assert "parked 2 unconsumed message(s)" in first.output

    with running_stack(env) as second:
        assert "re-published 2 parked message(s)" in second.output
        assert parked_count(second) == 0
        assert on_tier(second, LATER_TIER) == [later]  # the same bytes, key and headers
        assert on_tier(second, SOON_TIER) == [soon]
        applied = eventually(lambda: items_of(second, "u-soon"), timeout=90, interval=1)
        assert "lesson-soon" in applied
        assert items_of(second, "u-later") is None  # still waiting for its due time
        assert second.stop() == 0
    assert "parked 1 unconsumed message(s)" in second.output

    with running_stack(env) as third:
        assert "re-published 1 parked message(s)" in third.output
        assert on_tier(third, LATER_TIER) == [later]  # once: neither lost nor doubled
        assert on_tier(third, SOON_TIER) == []
        assert "lesson-soon" in (items_of(third, "u-soon") or {})
        assert parked_count(third) == 0
        assert third.stop() == 0

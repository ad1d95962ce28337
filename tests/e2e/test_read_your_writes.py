"""Read-your-writes on the live stack: a write's token makes the next read reflect it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.embedded import free_port
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.service_layer.consistency import ReadYourWrites
from shared.service_layer.dead_letter_records import DeadLetter
from tests.fakes import FixedClock
from tests.support.services import TEST_API_KEY, Stack, service_process

pytestmark = pytest.mark.e2e


def rated(event_id: str, content: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "ryw-test",
        "type": "content.rated",
        "payload": {"contentId": content, "rating": "easy"},
    }


def test_a_read_with_the_writes_token_reflects_it_at_once(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    written = api.put(url, json={"events": [rated(f"e-{n}", f"c-{n}") for n in range(3)]}).json()
    token = written["consistencyToken"]

    read = api.get(url, params={"waitFor": token, "waitMs": 10_000})

    assert read.headers["Progress-Consistent"] == "true"
    assert read.json()["snapshot"]["eventCount"] == 3
    assert "Progress-Consistent" not in api.get(url).headers


def test_large_writes_bulk_tokens_and_refusals(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    many = api.put(url, json={"events": [rated(f"m-{n}", f"c-{n}") for n in range(60)]}).json()
    read = api.get(url, params={"waitFor": many["consistencyToken"], "waitMs": 10_000})
    assert read.headers["Progress-Consistent"] == "true"
    assert read.json()["snapshot"]["eventCount"] == 60

    other = f"{user_id}-b"
    bulk = api.post(
        "/v1/events",
        json={
            "events": [
                {**rated("b-1", "x"), "userId": user_id},
                {**rated("b-2", "y"), "userId": other},
            ]
        },
    ).json()
    assert set(bulk["consistencyTokens"]) == {user_id, other}
    mine = bulk["consistencyTokens"][user_id]
    view = api.get(f"/v1/users/{other}/progress", params={"waitFor": mine})
    assert view.status_code == 400
    assert view.json()["error"]["code"] == "invalid_consistency_token"
    assert api.get(url, params={"waitFor": "forged.token"}).status_code == 400
    assert api.get(url, params={"waitFor": mine, "waitMs": 20_000}).status_code == 422


def mint(settings: Settings, user: str, event_ids: list[str], at: datetime | None = None) -> str:
    """A token the gateway accepts (same secret), for events that never reach the log."""
    minting = ReadYourWrites(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        settings.erasure_secrets,
        clock=FixedClock(at or datetime.now(UTC)),
    )
    return asyncio.run(minting.token(("demo", user), event_ids))


async def dead_letter(settings: Settings, user: str, event_id: str) -> None:
    """What the projector stores when it gives an event up (quota, refused, retries spent)."""
    client = mongo_client(settings)
    try:
        letter = DeadLetter(
            "quota",
            b"{}",
            None,
            [],
            "progress.events",
            0,
            int(time.time_ns()),
            tenant_id="demo",
            user_id=user,
            event_id=event_id,
        )
        await MongoDeadLetterStore(client[settings.mongo_database]).add(letter)
    finally:
        await client.close()


def timed_read(api: httpx.Client, user: str, token: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    read = api.get(f"/v1/users/{user}/progress", params={"waitFor": token, "waitMs": 4000})
    return read, time.monotonic() - started


def test_a_wait_on_a_dead_lettered_event_ends_at_once_unreflected(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    token = mint(stack.settings, user_id, ["doomed-1"])
    asyncio.run(dead_letter(stack.settings, user_id, "doomed-1"))
    read, seconds = timed_read(api, user_id, token)
    assert read.status_code == 200
    assert read.headers["Progress-Consistent"] == "false"
    assert seconds < 1.5  # not the 4 s bound


def test_an_expired_token_is_answered_at_once(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    old = mint(stack.settings, user_id, ["long-gone"], datetime.now(UTC) - timedelta(hours=2))
    read, seconds = timed_read(api, user_id, old)
    assert read.headers["Progress-Consistent"] == "false"
    assert seconds < 1.5
    written = api.put(f"/v1/users/{user_id}/progress", json={"events": [rated("x-1", "c")]})
    assert (
        timed_read(api, user_id, written.json()["consistencyToken"])[0].headers[
            "Progress-Consistent"
        ]
        == "true"
    )


@pytest.fixture(scope="module")
def four_slot_gateway(stack: Stack, workdir: Path) -> Iterator[str]:
    """A second gateway on the session's broker and database with four request slots."""
    own = stack.settings.model_copy(
        update={"gateway_port": free_port(), "http_max_in_flight": 4, "wait_max_per_user": 4}
    )
    process = service_process(
        own, "four-slot-gateway", "services.gateway", own.gateway_port, workdir / "logs"
    )
    process.start(timeout=60)
    try:
        yield f"http://127.0.0.1:{own.gateway_port}"
    finally:
        process.stop()


async def waits_and_others(base: str, token: str, user: str, other: str) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=15) as client:
        waiting = [
            asyncio.create_task(
                client.get(f"/v1/users/{user}/progress", params={"waitFor": token, "waitMs": 2500})
            )
            for _ in range(4)
        ]
        await asyncio.sleep(0.8)
        fifth = await client.get(
            f"/v1/users/{user}/progress", params={"waitFor": token, "waitMs": 2500}
        )
        others = [await client.get(f"/v1/users/{other}/progress") for _ in range(3)]
        return [fifth, *others, *await asyncio.gather(*waiting)]


def test_one_learners_waits_hold_no_request_slot_and_a_fifth_gets_429(
    four_slot_gateway: str, stack: Stack, user_id: str
) -> None:
    """Four waiting reads used to take all four slots: everyone else got 503 for 10 s."""
    token = mint(stack.settings, user_id, ["never-written"])
    fifth, *rest = asyncio.run(
        waits_and_others(four_slot_gateway, token, user_id, f"{user_id}-other")
    )
    assert fifth.status_code == 429
    assert fifth.json()["error"]["code"] == "too_many_waits"
    assert fifth.json()["error"]["field"] == "waitFor"
    assert int(fifth.headers["Retry-After"]) >= 1
    others, waited = rest[:3], rest[3:]
    assert [answer.status_code for answer in others] == [200] * 3
    assert [answer.headers["Progress-Consistent"] for answer in waited] == ["false"] * 4

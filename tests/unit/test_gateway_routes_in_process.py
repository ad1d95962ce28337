"""The gateway's routes in process over fakes: auth, reset, erasure and the error shape.

The app is the production one (`create_app`); only its context is built from the fakes
(`tests.support.gateway_in_process`), so each answer takes milliseconds and needs neither
broker nor database. The end-to-end suites check the same answers across the real stack.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from tests.fakes import InMemoryTombstoneStore
from tests.support.gateway_in_process import API_KEY, InProcessGateway, user_token

KEY = f"Bearer {API_KEY}"
PROGRESS = "/v1/users/u1/progress"


def _event(gateway: InProcessGateway, event_id: str = "e-1") -> dict[str, Any]:
    occurred = gateway.ports.clock.now() - timedelta(minutes=1)
    return {
        "eventId": event_id,
        "occurredAt": occurred.isoformat(),
        "clientId": "in-process",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "completed"},
    }


def _error(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON error shape, checked: `{"error": {"code", "message", "field"?}}` and no more."""
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "field"}
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


REFUSED = [
    ("no credentials", None, 401, "unauthorized"),
    ("unknown key", "Bearer not-a-key", 401, "unauthorized"),
    ("not bearer", "Basic dXNlcjpwdw==", 401, "unauthorized"),
    ("forged token", "forged", 401, "unauthorized"),
    ("expired token", "expired", 401, "expired"),
    ("token of another user", "other-user", 403, "forbidden"),
]


def _credential(kind: str | None) -> str | None:
    tokens = {
        "forged": user_token("u1", secret="not-the-secret-0123456789-abcdefgh"),
        "expired": user_token("u1", ttl=-60),
        "other-user": user_token("someone-else"),
    }
    return f"Bearer {tokens[kind]}" if kind in tokens else kind


@pytest.mark.parametrize(("case", "auth", "status", "code"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_a_refused_write_answers_its_status_and_publishes_nothing(
    case: str, auth: str | None, status: int, code: str
) -> None:
    gateway = InProcessGateway()
    async with gateway.client(_credential(auth)) as client:
        answer = await client.put(PROGRESS, json={"events": [_event(gateway)]})

    assert answer.status_code == status, f"{case}: {answer.text}"
    assert _error(answer.json())["code"] == code
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert gateway.publisher.published == []


async def test_a_users_own_token_and_the_api_key_may_write() -> None:
    gateway = InProcessGateway()
    for authorization in (f"Bearer {user_token('u1')}", KEY):
        async with gateway.client(authorization) as client:
            answer = await client.put(PROGRESS, json={"events": [_event(gateway)]})
        assert answer.status_code == 202, answer.text
    assert [event.user_id for event, _ in gateway.publisher.published] == ["u1", "u1"]


async def test_a_reset_publishes_one_reset_event_keyed_by_its_idempotency_key() -> None:
    gateway = InProcessGateway()
    async with gateway.client(KEY) as client:
        answer = await client.delete(PROGRESS, headers={"Idempotency-Key": "reset-1"})

    assert answer.status_code == 202, answer.text
    [(event, _)] = gateway.publisher.published
    assert (event.event_id, event.type, event.user_id) == ("reset-1", "progress.reset", "u1")
    assert event.received_at == gateway.ports.clock.now()
    assert answer.json()["consistencyToken"]


async def test_a_reset_naming_an_unknown_course_is_a_404_naming_the_field() -> None:
    gateway = InProcessGateway()
    async with gateway.client(KEY) as client:
        answer = await client.delete(PROGRESS, params={"courseId": "no-such-course"})

    assert answer.status_code == 404, answer.text
    assert _error(answer.json())["field"] == "courseId"
    assert gateway.publisher.published == []


async def test_an_erased_users_writes_and_resets_answer_410_and_store_nothing() -> None:
    gateway = InProcessGateway()
    tombstones = gateway.ports.tombstones
    assert isinstance(tombstones, InMemoryTombstoneStore)
    await tombstones.bury("demo", "u1")
    async with gateway.client(KEY) as client:
        written = await client.put(PROGRESS, json={"events": [_event(gateway)]})
        reset = await client.delete(PROGRESS)

    for answer in (written, reset):
        assert answer.status_code == 410, answer.text
        assert _error(answer.json()) == {
            "code": "erased",
            "message": answer.json()["error"]["message"],
            "field": "userId",
        }
    assert gateway.publisher.published == []


async def test_an_invalid_event_is_rejected_alone_naming_its_field() -> None:
    gateway = InProcessGateway()
    typeless = {key: value for key, value in _event(gateway, "e-2").items() if key != "type"}
    async with gateway.client(KEY) as client:
        answer = await client.put(PROGRESS, json={"events": [_event(gateway), typeless]})

    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    assert [(r["eventId"], r["status"]) for r in results] == [
        ("e-1", "accepted"),
        ("e-2", "rejected"),
    ]
    assert (results[1]["code"], results[1]["field"]) == ("invalid_event", "type")
    assert [event.event_id for event, _ in gateway.publisher.published] == ["e-1"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"events": "not a list"}', "events"),
        (b'{"events": [', None),
    ],
    ids=["events not a list", "not JSON"],
)
async def test_a_malformed_body_is_refused_whole_in_the_error_shape(
    content: bytes, field: str | None
) -> None:
    gateway = InProcessGateway()
    async with gateway.client(KEY) as client:
        answer = await client.put(
            PROGRESS, content=content, headers={"Content-Type": "application/json"}
        )

    assert answer.status_code in (400, 422), answer.text
    assert _error(answer.json()).get("field") == field
    assert gateway.publisher.published == []


async def test_an_unknown_path_answers_in_the_error_shape() -> None:
    async with InProcessGateway().client(KEY) as client:
        answer = await client.get("/v1/no-such-route")

    assert answer.status_code == 404
    assert _error(answer.json())["code"]


async def test_only_a_read_that_waits_for_a_write_opens_a_causal_session() -> None:
    """A plain read promises no write and reads the primary: a session would only cost."""
    gateway = InProcessGateway()
    opened: list[str] = []

    @asynccontextmanager
    async def recording() -> AsyncIterator[None]:
        opened.append("session")
        yield

    gateway.ports = dataclasses.replace(gateway.ports, causal_reads=recording)
    async with gateway.client(KEY) as http:
        written = await http.put(PROGRESS, json={"events": [_event(gateway)]})
        assert written.status_code == 202, written.text
        assert (await http.get(PROGRESS)).status_code == 200
        assert opened == []
        token = written.json()["consistencyToken"]
        waited = await http.get(PROGRESS, params={"waitFor": token, "waitMs": 0})
        assert waited.status_code == 200, waited.text
        assert opened == ["session"]

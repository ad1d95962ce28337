"""`client.changes()`: a user's live stream through the Python SDK.

Against the live stack: changes arrive as they are stored, a second `changes()` resumes
from a cursor, an expired user token is renewed through the token provider. Against
scripted answers (httpx MockTransport): the client policy's waits, `Last-Event-ID` on
every reconnect, and the reasons that end following.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from progress_sync_client import ApiError, AsyncProgressClient, Backoff, Change, StreamEnded

from tests.e2e.test_operations_cli import event
from tests.e2e.xapi_support import user_token
from tests.sdk_python.test_client_policy import RecordingBackoff
from tests.support.services import TEST_API_KEY, Stack


async def _next(changes: AsyncIterator[Change]) -> Change:
    return await asyncio.wait_for(anext(changes), 15.0)


def _ids(change: Change) -> list[str]:
    return [recorded.event.event_id for recorded in change.events]


async def _write(stack: Stack, user: str, *event_ids: str) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url) as http:
        answer = await http.put(
            f"/v1/users/{user}/progress",
            json={"events": [event(event_id) for event_id in event_ids]},
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        )
    assert answer.status_code == 202, answer.text


@pytest.mark.e2e
async def test_changes_arrive_as_stored_and_resume_from_a_cursor(stack: Stack) -> None:
    user = f"learner-{uuid.uuid4().hex[:8]}"
    async with AsyncProgressClient(stack.gateway_url, api_key=TEST_API_KEY) as client:
        await _write(stack, user, "c-1", "c-2")
        changes = client.changes(user, since="0")
        first = await _next(changes)
        await changes.aclose()
        assert _ids(first) == ["c-1", "c-2"]
        await _write(stack, user, "c-3")
        resumed = client.changes(user, since=first.cursor)
        second = await _next(resumed)
        await resumed.aclose()
    assert _ids(second) == ["c-3"]
    assert int(second.cursor) > int(first.cursor)


@pytest.mark.e2e
async def test_an_expired_token_is_renewed_and_the_stream_goes_on(stack: Stack) -> None:
    user = f"learner-{uuid.uuid4().hex[:8]}"
    minted: list[float] = []

    def short_token() -> str:
        minted.append(time.monotonic())
        return user_token(user, seconds=2)

    async with AsyncProgressClient(stack.gateway_url, token_provider=short_token) as client:
        changes = client.changes(user, since="0")
        await _write(stack, user, "t-1")
        assert _ids(await _next(changes)) == ["t-1"]
        await asyncio.sleep(2.5)  # the first token expired: the server closed, the SDK renewed
        await _write(stack, user, "t-2")
        assert _ids(await _next(changes)) == ["t-2"]
        await changes.aclose()
    assert len(minted) >= 2


def _stream(*messages: str) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content="".join(messages).encode()
    )


def _events(cursor: int, *event_ids: str) -> str:
    events = ",".join(
        f'{{"eventId":"{eid}","occurredAt":"2026-11-20T10:00:00Z","clientId":"c",'
        f'"type":"content.progressed","payload":{{"contentId":"x","status":"completed"}},'
        f'"tenantId":"demo","userId":"u","receivedAt":"2026-11-20T10:00:01Z"}}'
        for eid in event_ids
    )
    return f'id: {cursor}\nevent: events\ndata: {{"events":[{events}],"cursor":"{cursor}"}}\n\n'


def _closed(reason: str) -> str:
    return f'event: closed\ndata: {{"reason": "{reason}"}}\n\n'


async def test_reconnects_wait_as_the_policy_says_and_resume_from_the_last_id() -> None:
    answers = [
        httpx.Response(503, headers={"Retry-After": "2"}, json={"error": {"code": "x"}}),
        _stream(": keep-alive\n\n", _events(3, "e-1"), _closed("lifetime")),
        _stream(_events(5, "e-2")),  # ends without `closed`: a dropped connection
        httpx.Response(429, json={"error": {"code": "too_many_streams"}}),
        _stream(_events(6, "e-3"), _closed("erased")),
    ]
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Last-Event-ID"))
        return answers.pop(0)

    backoff = RecordingBackoff()
    client = AsyncProgressClient(
        "http://gateway.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    got: list[str] = []

    async def follow() -> None:
        async for change in client.changes("u", since="0", backoff=backoff):
            got.extend(_ids(change))

    with pytest.raises(StreamEnded) as ended:
        await follow()
    assert ended.value.reason == "erased"
    assert got == ["e-1", "e-2", "e-3"]
    assert seen == ["0", "0", "3", "5", "5"]
    assert backoff.asked == [2.0, None, None]


async def test_a_refusal_other_than_a_wait_is_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"code": "invalid_cursor", "message": "no", "field": "Last-Event-ID"}
        return httpx.Response(400, json={"error": error})

    client = AsyncProgressClient(
        "http://gateway.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(ApiError) as refused:
        await anext(client.changes("u", since="x", backoff=Backoff()))
    assert (refused.value.status, refused.value.field) == (400, "Last-Event-ID")

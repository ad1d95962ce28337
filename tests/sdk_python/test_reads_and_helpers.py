"""Reads (paging, read-your-writes) and the backend calls, on scripted answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from progress_sync_client import ApiError, AsyncProgressClient, NeedsApiKey, PagingStopped


def event(event_id: str) -> dict[str, object]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-01-05T10:00:00Z",
        "clientId": "c",
        "type": "content.rated",
        "payload": {"contentId": "a", "rating": "easy"},
        "tenantId": "demo",
        "userId": "u/1",
        "receivedAt": "2026-01-05T10:00:01Z",
    }


async def test_get_progress_pages_with_the_cursor_and_passes_wait_for_once() -> None:
    asked: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        asked.append(params)
        assert request.url.raw_path.startswith(b"/v1/users/u%2F1/progress")
        since = int(params["since"])
        page = {
            "snapshot": {"tenantId": "demo", "userId": "u/1", "eventCount": 3},
            "events": [event(f"e{since + 1}")],
            "cursor": str(since + 1),
            "hasMore": since + 1 < 3,
            "courseViews": {"courses": {}},
        }
        return httpx.Response(200, json=page, headers={"Progress-Consistent": "true"})

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    progress = await client.get_progress("u/1", since="0", wait_for="tok", wait_ms=50_000)
    assert [e.event_id for e in progress.events] == ["e1", "e2", "e3"]
    assert progress.cursor == "3"
    assert progress.consistent is True
    assert progress.snapshot.event_count == 3
    assert asked[0] == {"since": "0", "waitFor": "tok", "waitMs": "10000"}
    assert asked[1:] == [{"since": "1"}, {"since": "2"}]
    await client.close()


async def test_a_large_merge_is_called_again_until_nothing_remains() -> None:
    remaining = [520, 20, 0]

    def handler(request: httpx.Request) -> httpx.Response:
        left = remaining.pop(0)
        moved = [{"eventId": f"e-{left}", "status": "accepted"}]
        answer = {"accepted": 1, "rejected": 0, "results": moved, "remaining": left}
        return httpx.Response(202, json={**answer, "consistencyToken": f"t-{left}"})

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    merged = await client.merge_guest("acct", "guest-1")
    assert remaining == []
    assert merged.accepted == 3
    assert [r.event_id for r in merged.results] == ["e-520", "e-20", "e-0"]
    assert merged.consistency_token == "t-0"
    await client.close()


async def test_a_state_deriving_too_many_events_is_imported_in_halves() -> None:
    sent: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        state = json.loads(request.content)["state"]
        sent.append(sorted(state["items"]))
        if len(state["items"]) > 2:
            error = {"code": "too_many_events", "message": "split", "field": "state"}
            return httpx.Response(413, json={"error": error})
        answer = {"accepted": len(state["items"]), "rejected": 0, "results": []}
        return httpx.Response(202, json={**answer, "consistencyToken": "t"})

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    items = {f"i{n}": {"status": "completed"} for n in range(5)}
    imported = await client.import_state("acct", {"items": items, "activePathId": "p"})
    assert imported.accepted == 5
    assert sent == [
        ["i0", "i1", "i2", "i3", "i4"],
        ["i0", "i1"],
        ["i2", "i3", "i4"],
        ["i2"],
        ["i3", "i4"],
    ]
    await client.close()


async def test_merge_and_import_post_the_designed_bodies_and_errors_name_the_code() -> None:
    bodies: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/forbidden/merge"):
            return httpx.Response(403, json={"error": {"code": "forbidden", "message": "no"}})
        bodies[request.url.path] = json.loads(request.content)
        answer = {"accepted": 1, "rejected": 0, "results": [], "consistencyToken": "t"}
        return httpx.Response(202, json=answer)

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    merged = await client.merge_guest("acct", "guest-1")
    imported = await client.import_state(
        "acct", {"items": {}}, as_of=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert merged.consistency_token == "t"
    assert imported.accepted == 1
    assert bodies == {
        "/v1/users/acct/merge": {"from": "guest-1"},
        "/v1/users/acct/import": {"state": {"items": {}}, "asOf": "2026-01-01T00:00:00+00:00"},
    }
    with pytest.raises(ApiError) as refused:
        await client.merge_guest("forbidden", "g")
    assert refused.value.status == 403
    assert refused.value.code == "forbidden"
    await client.close()


def page(cursor: str, has_more: bool) -> dict[str, object]:
    return {
        "snapshot": {"tenantId": "demo", "userId": "u/1"},
        "events": [event(f"e{cursor}")],
        "cursor": cursor,
        "hasMore": has_more,
    }


async def test_paging_stops_when_the_server_repeats_its_cursor() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["since"])
        return httpx.Response(200, json=page("7", True))

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(PagingStopped) as stopped:
        await client.get_progress("u/1", since="0")
    assert asked == ["0", "7"]
    assert (stopped.value.repeated, stopped.value.cursor, stopped.value.pages) == (True, "7", 2)
    assert "repeated cursor 7" in str(stopped.value)
    await client.close()


async def test_paging_stops_after_max_pages_of_an_endless_log() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["since"])
        return httpx.Response(200, json=page(str(len(asked)), True))

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler), max_pages=5
    )
    with pytest.raises(PagingStopped) as stopped:
        await client.get_progress("u/1", since="0")
    assert len(asked) == 5
    assert (stopped.value.repeated, stopped.value.pages) == (False, 5)
    await client.close()


async def test_merge_needs_an_api_key_and_calls_again_while_events_remain() -> None:
    remaining = iter([1200, 700, 200, 0])
    calls: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        left = next(remaining)
        results = [{"eventId": f"m{len(calls)}", "status": "accepted"}]
        body = {"accepted": 1, "rejected": 0, "results": results, "remaining": left}
        return httpx.Response(202, json={**body, "consistencyToken": f"t{len(calls)}"})

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    merged = await client.merge_guest("acct", "guest-1")
    assert calls == [{"from": "guest-1"}] * 4
    assert (merged.accepted, merged.remaining, merged.consistency_token) == (4, 0, "t4")
    assert [r.event_id for r in merged.results] == ["m1", "m2", "m3", "m4"]
    await client.close()
    user = AsyncProgressClient(
        "http://g.test", token_provider=lambda: "jwt", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(NeedsApiKey, match="merge_guest needs a tenant API key"):
        await user.merge_guest("acct", "guest-1")
    with pytest.raises(NeedsApiKey, match="import_state"):
        await user.import_state("acct", {"items": {}})
    assert len(calls) == 4
    await user.close()


async def test_merge_stops_when_the_server_does_not_move_on() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        body = {"accepted": 0, "rejected": 0, "results": [], "remaining": 40}
        return httpx.Response(202, json=body)

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    assert (await client.merge_guest("acct", "guest-1")).remaining == 40
    assert len(calls) == 2
    await client.close()


async def test_course_and_scoped_reset_send_the_designed_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(
                404, json={"error": {"code": "course_not_found", "message": "no"}}
            )
        body = {"accepted": 1, "rejected": 0, "results": [], "consistencyToken": "t"}
        return httpx.Response(202, json=body)

    client = AsyncProgressClient(
        "http://g.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(ApiError) as missing:
        await client.course("u/1", "course 1", wait_for="tok", wait_ms=500)
    assert missing.value.code == "course_not_found"
    await client.reset_progress("u/1", course_id="c1", idempotency_key="reset-1")
    await client.reset_progress("u/1", content_ids=["a", "b"])
    read, course, items = seen
    assert read.url.raw_path == b"/v1/users/u%2F1/courses/course%201?waitFor=tok&waitMs=500"
    assert (course.method, dict(course.url.params)) == ("DELETE", {"courseId": "c1"})
    assert course.headers["Idempotency-Key"] == "reset-1"
    assert items.url.params.get_list("contentId") == ["a", "b"]
    assert items.headers["Idempotency-Key"]
    await client.close()

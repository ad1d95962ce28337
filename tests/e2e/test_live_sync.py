"""Live sync: `GET /v1/users/{userId}/progress/stream` against real gateway processes.

The streams run on a gateway of this module (beside the session's projector, broker and
database) whose keep-alive and send bounds are shrunk to fractions of a second, and whose
timer re-read is a minute away: what these tests see within seconds, a change announcement
brought.
"""

from __future__ import annotations

import signal
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest

from chaos.known_cases import stream_requests
from chaos.routes import discover
from shared.adapters.embedded import EmbeddedServer, free_port
from tests.e2e.test_operations_cli import erase, event
from tests.e2e.xapi_support import user_token
from tests.support.live import events_until, next_message, opened_stream
from tests.support.services import (
    TEST_API_KEY,
    Stack,
    eventually,
    metrics_text,
    service_process,
)

pytestmark = pytest.mark.e2e

FAST_STREAMS = {
    "stream_keep_alive_seconds": 0.5,
    "stream_reread_seconds": 60.0,
    "stream_send_timeout_seconds": 1.0,
    "rate_limit_user_burst": 10_000,
}


def _gateway(stack: Stack, logs: Path, name: str, **settings: Any) -> EmbeddedServer:
    port = free_port()
    tuned = stack.settings.model_copy(update={"gateway_port": port, **FAST_STREAMS, **settings})
    server = service_process(tuned, name, "services.gateway", port, logs)
    server.start(timeout=90)
    return server


@pytest.fixture(scope="module")
def live(stack: Stack, workdir: Path) -> Iterator[EmbeddedServer]:
    """A gateway of this module's own, with fast streams."""
    server = _gateway(stack, workdir / "logs", "gateway-live")
    try:
        yield server
    finally:
        server.stop()


def _url(server: EmbeddedServer) -> str:
    return f"http://{server.host}:{server.port}"


def _write(server: EmbeddedServer, user: str, *event_ids: str) -> None:
    answer = httpx.put(
        f"{_url(server)}/v1/users/{user}/progress",
        json={"events": [event(event_id) for event_id in event_ids]},
        headers={"Authorization": f"Bearer {user_token(user)}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [item["eventId"] for item in events]


def test_a_write_on_one_device_shows_on_anothers_stream_with_keep_alives_between(
    live: EmbeddedServer, user_id: str
) -> None:
    with opened_stream(_url(live), user_id, user_token(user_id)) as (response, messages):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert next(messages).event == "comment"
        _write(live, user_id, "a-1", "a-2")
        events, cursor = events_until(messages, 2)
        assert _ids(events) == ["a-1", "a-2"]
        assert all(item["userId"] == user_id for item in events)
        quiet = next(messages)
        assert (quiet.event, quiet.data) == ("comment", "keep-alive")
    page = httpx.get(
        f"{_url(live)}/v1/users/{user_id}/progress",
        params={"since": 0},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    ).json()
    assert page["cursor"] == cursor
    assert _ids(page["events"]) == ["a-1", "a-2"]


def test_resuming_by_last_event_id_misses_nothing_and_repeats_nothing(
    live: EmbeddedServer, user_id: str
) -> None:
    _write(live, user_id, "r-1", "r-2", "r-3")
    with opened_stream(_url(live), user_id, TEST_API_KEY, since="0") as (_, messages):
        first, last_id = events_until(messages, 3)
    _write(live, user_id, "r-4", "r-5")
    with opened_stream(
        _url(live), user_id, user_token(user_id), since="0", last_event_id=last_id
    ) as (_, messages):
        _write(live, user_id, "r-6")
        second, _ = events_until(messages, 3)
    assert _ids(first) + _ids(second) == [f"r-{n}" for n in range(1, 7)]


def test_refusals_name_their_cause_and_open_nothing(live: EmbeddedServer, user_id: str) -> None:
    url = f"{_url(live)}/v1/users/{user_id}/progress/stream"
    now = int(time.time())

    def refused(status: int, credential: str, **headers: str) -> dict[str, Any]:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {credential}", **headers})
        assert answer.status_code == status, answer.text
        error: dict[str, Any] = answer.json()["error"]
        return error

    assert refused(403, user_token("someone-else"))["code"] == "forbidden"
    forged = jwt.encode(
        {"sub": user_id, "tid": "demo", "iat": now, "exp": now + 60}, "x" * 40, "HS256"
    )
    assert refused(401, forged)["code"] == "unauthorized"
    expired = user_token(user_id, seconds=-120)
    assert refused(401, expired)["code"] == "expired"
    for bad in ("abc", "-1", "1" * 21, "1.5"):
        error = refused(400, TEST_API_KEY, **{"Last-Event-ID": bad})
        assert (error["code"], error["field"]) == ("invalid_cursor", "Last-Event-ID")
    answer = httpx.get(
        url, params={"since": "x"}, headers={"Authorization": f"Bearer {TEST_API_KEY}"}
    )
    assert (answer.status_code, answer.json()["error"]["field"]) == (400, "since")


def test_a_sixth_stream_of_a_user_is_refused_until_one_closes(
    live: EmbeddedServer, user_id: str
) -> None:
    token = user_token(user_id)
    with ExitStack() as streams:
        opened = [
            streams.enter_context(opened_stream(_url(live), user_id, token)) for _ in range(5)
        ]
        assert [response.status_code for response, _ in opened] == [200] * 5
        sixth = httpx.get(
            f"{_url(live)}/v1/users/{user_id}/progress/stream",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sixth.status_code == 429
        assert sixth.json()["error"]["code"] == "too_many_streams"
        assert sixth.headers["Retry-After"] == "1"
    with opened_stream(_url(live), user_id, token) as (again, _):
        assert again.status_code == 200


def test_an_erase_closes_the_open_stream_and_refuses_new_ones(
    live: EmbeddedServer, user_id: str, monkeypatch: pytest.MonkeyPatch, stack: Stack
) -> None:
    _write(live, user_id, "x-1")
    with opened_stream(_url(live), user_id, TEST_API_KEY, since="0") as (_, messages):
        events_until(messages, 1)
        assert erase(stack.settings, monkeypatch, user_id).exit_code == 0
        closed = next_message(messages, "closed")
    assert closed.json() == {"reason": "erased"}
    again = httpx.get(
        f"{_url(live)}/v1/users/{user_id}/progress/stream",
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert (again.status_code, again.json()["error"]["code"]) == (410, "erased")


def test_a_stream_ends_when_its_token_expires(live: EmbeddedServer, user_id: str) -> None:
    started = time.monotonic()
    with opened_stream(_url(live), user_id, user_token(user_id, seconds=2)) as (_, messages):
        closed = next_message(messages, "closed")
    assert closed.json() == {"reason": "token_expired"}
    assert time.monotonic() - started < 4


def _padded(count: int) -> list[dict[str, Any]]:
    """Events of about 4 KiB each (their extensions' limit)."""
    return [
        {
            "eventId": f"p-{uuid.uuid4()}",
            "occurredAt": "2026-12-01T10:00:00Z",
            "clientId": "live-test",
            "type": "content.progressed",
            "payload": {
                "contentId": "page-1",
                "status": "in_progress",
                "extensions": {"pad": "x" * 3900},
            },
        }
        for _ in range(count)
    ]


def test_a_client_that_never_reads_is_closed_and_counted(
    live: EmbeddedServer, user_id: str
) -> None:
    def count(name: str) -> float:
        found = [row for row in metrics_text(live).splitlines() if row.startswith(name)]
        return float(found[0].split()[-1]) if found else 0.0

    slow = 'progress_gateway_streams_closed_total{reason="slow_reader"}'
    opened = "progress_gateway_streams_open"
    before, open_before = count(slow), count(opened)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect((live.host, live.port))
    try:
        reader.sendall(
            f"GET /v1/users/{user_id}/progress/stream?since=0 HTTP/1.1\r\n"
            f"Host: {live.host}\r\nAuthorization: Bearer {TEST_API_KEY}\r\n\r\n".encode()
        )
        eventually(lambda: True if count(opened) > open_before else None)
        for _ in range(5):  # 5 MiB: more than the kernel's socket buffers take (about 3 MiB)
            answer = httpx.put(
                f"{_url(live)}/v1/users/{user_id}/progress",
                json={"events": _padded(250)},
                headers={"Authorization": f"Bearer {TEST_API_KEY}"},
                timeout=10,
            )
            assert answer.status_code == 202, answer.text
        eventually(lambda: True if count(slow) > before else None, timeout=20)
        # the gauge drops as the closed stream's handler returns, just after the count (other
        # tests' streams on this gateway may still be winding down: compare with before)
        eventually(lambda: True if count(opened) <= open_before else None)
    finally:
        reader.close()


def test_a_stream_ends_at_its_lifetime_on_a_merge_and_at_shutdown(
    stack: Stack, workdir: Path, user_id: str
) -> None:
    short = _gateway(
        stack,
        workdir / "logs",
        "gateway-short",
        stream_lifetime_seconds=2.0,
        stream_reread_seconds=0.3,
    )
    try:
        with opened_stream(_url(short), user_id, TEST_API_KEY) as (_, messages):
            assert next_message(messages, "closed").json() == {"reason": "lifetime"}
        guest = f"guest-{uuid.uuid4().hex[:8]}"
        _write(short, guest, "g-1")
        with opened_stream(_url(short), guest, TEST_API_KEY) as (_, messages):
            merged = httpx.post(
                f"{_url(short)}/v1/users/{user_id}/merge",
                json={"from": guest},
                headers={"Authorization": f"Bearer {TEST_API_KEY}"},
                timeout=30,  # a merge reads the guest's log: seconds on a loaded machine
            )
            assert merged.status_code == 202, merged.text
            assert next_message(messages, "closed").json() == {"reason": "merged"}
        with opened_stream(_url(short), user_id, TEST_API_KEY) as (_, messages):
            next(messages)
            stopping = time.monotonic()
            short.signal(signal.SIGTERM)
            assert next_message(messages, "closed").json() == {"reason": "shutdown"}
        assert short.process is not None
        short.process.wait(10)
        assert time.monotonic() - stopping < 5
    finally:
        short.stop()


def test_the_chaos_campaigns_stream_cases_get_their_answers(
    live: EmbeddedServer, user_id: str
) -> None:
    """`make chaos` sends these once per run and fuzzes the route, reading a stream's head."""
    cases = stream_requests(
        user_id, "someone-else", f"Bearer {TEST_API_KEY}", f"Bearer {user_token(user_id)}"
    )
    for case in cases:
        path, _, query = case.path.partition("?")
        answer = httpx.request(
            case.method, _url(live) + path, params=parse_qsl(query), headers=case.headers
        )
        assert answer.status_code == case.expected, f"{case.name}: {answer.text}"
    routes = {route.label: route for route in discover(_url(live))}
    assert routes["GET /v1/users/{userId}/progress/stream"].streams
    assert not routes["GET /v1/users/{userId}/progress"].streams

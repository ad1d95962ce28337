"""The gateway's ASGI middleware on its own: in-flight bound, body deadline, request context."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from services.gateway.body_limits import BodyLimits
from services.gateway.in_flight import InFlightLimit
from services.gateway.request_context import RequestContext


def http_scope(method: str = "GET", path: str = "/v1/x", **headers: str) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


class Recorder:
    """Collects what an ASGI app sends."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def body(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.messages[1:]))


async def no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_past_the_in_flight_bound_requests_get_503_but_probes_pass() -> None:
    release = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await release.wait()
        await ok(scope, receive, send)

    limit = InFlightLimit(slow, limit=2)
    held = [asyncio.create_task(limit(http_scope(), no_body, Recorder())) for _ in range(2)]
    await asyncio.sleep(0)
    refused, probe = (
        Recorder(),
        asyncio.create_task(limit(http_scope(path="/healthz"), no_body, Recorder())),
    )
    await limit(http_scope(), no_body, refused)
    assert refused.status == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.body["error"]["code"] == "overloaded"
    release.set()
    await asyncio.gather(*held, probe)
    after = Recorder()
    await limit(http_scope(), no_body, after)
    assert after.status == 200


async def test_a_body_slower_than_the_deadline_is_408_and_closes() -> None:
    async def trickle() -> Message:
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b" ", "more_body": True}

    sent = Recorder()
    scope = http_scope("PUT", content_type="application/json")
    await BodyLimits(ok, timeout=0.3)(scope, trickle, sent)
    assert sent.status == 408
    assert sent.headers["connection"] == "close"
    assert sent.body["error"]["code"] == "request_timeout"


async def test_request_context_labels_odd_methods_and_unmatched_paths() -> None:
    sent = Recorder()
    await RequestContext(ok)(http_scope("FOO", "/nowhere", x_request_id="req-1"), no_body, sent)
    assert sent.headers["x-request-id"] == "req-1"
    labels = {"method": "other", "route": "unmatched", "status": "200"}
    assert REGISTRY.get_sample_value("progress_gateway_request_seconds_count", labels)


async def test_an_unhandled_error_is_a_json_500_naming_the_request() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    sent = Recorder()
    await RequestContext(broken)(http_scope(), no_body, sent)
    assert sent.status == 500
    request_id = sent.headers["x-request-id"]
    assert sent.body["error"]["code"] == "internal_error"
    assert request_id in sent.body["error"]["message"]

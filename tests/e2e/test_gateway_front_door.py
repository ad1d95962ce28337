"""Issue 23, the front door: credentials before bodies, forms, failed logins, proxies, depth.

Two gateways of their own, with small budgets: one trusts 127.0.0.1 as a proxy, so each test
names its client in `X-Forwarded-For` and spends that address's failed logins alone; the
other trusts only a network the tests never come from, so the header must be ignored.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.xapi import MAX_FORM_BYTES
from shared.xapi.json_bounds import MAX_XAPI_DEPTH
from tests.e2e.xapi_support import KEY_ID, lrs_client, statement_for
from tests.support.services import TEST_API_KEY, Stack, service_process
from tests.support.xapi_signing import jws, signed_body, signed_multipart

pytestmark = pytest.mark.e2e

FAILED_LOGIN_BURST = 5
BODY_DEADLINE_SECONDS = 5.0
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}
GOOD_BASIC = "Basic " + base64.b64encode(f"{KEY_ID}:{TEST_API_KEY}".encode()).decode()


def own_gateway(settings: Settings, workdir: Path, name: str, **update: Any) -> Iterator[str]:
    own = settings.model_copy(
        update={
            "gateway_port": free_port(),
            "rate_limit_unauthenticated_per_second": 0.1,
            "rate_limit_unauthenticated_burst": FAILED_LOGIN_BURST,
            "http_body_timeout_seconds": BODY_DEADLINE_SECONDS,
            **update,
        }
    )
    process = service_process(own, name, "services.gateway", own.gateway_port, workdir / "logs")
    process.start(timeout=60)
    try:
        yield f"http://127.0.0.1:{own.gateway_port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
def behind_proxy(settings: Settings, workdir: Path) -> Iterator[str]:
    """A gateway behind a proxy on 127.0.0.1, serving at most 2 requests at once."""
    yield from own_gateway(
        settings, workdir, "proxied-gateway", trusted_proxies="127.0.0.1/32", http_max_in_flight=2
    )


@pytest.fixture(scope="module")
def direct(settings: Settings, workdir: Path) -> Iterator[str]:
    """A gateway that trusts only 10.0.0.0/8, a network the tests never connect from."""
    yield from own_gateway(settings, workdir, "direct-gateway", trusted_proxies="10.0.0.0/8")


def new_client() -> dict[str, str]:
    """Headers naming a client address of its own (counted only through a trusted proxy)."""
    number = uuid.uuid4().int % 62_500
    return {"X-Forwarded-For": f"203.0.{number // 250}.{number % 250 + 1}"}


def port_of(gateway: str) -> int:
    return int(gateway.rsplit(":", 1)[1])


def head_only(gateway: str, head: str, wait: float) -> bytes:
    """Send a request head that promises a body, never send the body; what came back."""
    with socket.create_connection(("127.0.0.1", port_of(gateway)), timeout=wait) as sock:
        sock.sendall(head.encode() + b"\r\n")
        try:
            return sock.recv(65536)
        except TimeoutError:
            return b""


def test_a_write_without_credentials_is_refused_before_its_body(behind_proxy: str) -> None:
    """Item 7: 16 MiB promised, nothing sent, no credentials: 401 at once, not a wait."""
    for path in ("/xapi/statements", "/v1/users/u1/progress"):
        answer = head_only(
            behind_proxy,
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-Experience-API-Version: 1.0.3\r\nContent-Length: {16 * 1024 * 1024}\r\n",
            wait=BODY_DEADLINE_SECONDS / 2,
        )
        assert answer.startswith(b"HTTP/1.1 401"), (path, answer[:200])
        assert b"connection: close" in answer.lower()


def test_a_request_still_receiving_its_body_counts_in_flight(behind_proxy: str) -> None:
    """Item 7: two slow bodies fill a gateway of 2 places; a third request gets 503."""
    head = (
        f"PUT /v1/users/slow/progress HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TEST_API_KEY}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{"
    )
    senders = [socket.create_connection(("127.0.0.1", port_of(behind_proxy))) for _ in range(2)]
    try:
        for sender in senders:
            sender.sendall(head.encode())
        answer = httpx.get(
            f"{behind_proxy}/v1/users/u1/progress",
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        )
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "overloaded"
        assert httpx.get(f"{behind_proxy}/healthz").status_code == 200
    finally:
        for sender in senders:
            sender.close()


def test_a_20000_field_form_is_refused_unread_and_healthz_stays_served(behind_proxy: str) -> None:
    """Item 1: 20,000 empty fields (149 KB), no credentials: 413 naming the form's limit.

    The same count in 40 KB, under the size bound, is refused for its field count.
    """
    form = "&".join(f"f{index}=" for index in range(20_000)).encode()

    async def both() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=behind_proxy, timeout=30) as client:
            sent = client.post(
                "/xapi/statements",
                params={"method": "PUT"},
                content=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            return await asyncio.gather(sent, client.get("/healthz"))

    refused, health = asyncio.run(both())
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["message"] == f"the body exceeds {MAX_FORM_BYTES} bytes"
    assert health.status_code == 200
    for many in ("&".join(f"f{index}=" for index in range(51)), "&".join(["="] * 20_000)):
        answer = httpx.post(
            f"{behind_proxy}/xapi/statements",
            params={"method": "GET"},
            content=many,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 400, answer.text
        assert "more than 50 fields" in answer.json()["error"]["message"]


def test_the_alternate_syntax_still_authenticates_from_its_form(behind_proxy: str) -> None:
    """ADL's 1.0.3 suite sends Authorization as a form field: still accepted."""
    form = {"Authorization": GOOD_BASIC, "X-Experience-API-Version": "1.0.3", "limit": "1"}
    answer = httpx.post(f"{behind_proxy}/xapi/statements", params={"method": "GET"}, data=form)
    assert answer.status_code == 200, answer.text


def test_failed_xapi_logins_are_limited_per_address(behind_proxy: str) -> None:
    """Item 5: wrong Basic keys to /xapi get 429 past the limit, as on the native routes."""
    headers = {**new_client(), **XAPI_HEADERS}
    url = f"{behind_proxy}/xapi/statements"
    statuses = []
    for _ in range(FAILED_LOGIN_BURST + 3):
        wrong = base64.b64encode(f"{KEY_ID}:psk_{uuid.uuid4().hex}".encode()).decode()
        statuses.append(httpx.get(url, headers={**headers, "Authorization": f"Basic {wrong}"}))
    codes = [answer.status_code for answer in statuses]
    assert codes == [401] * FAILED_LOGIN_BURST + [429] * 3, codes
    assert "failed authentications" in statuses[-1].json()["error"]["message"]
    # A credential the gateway has cached still works from the same address.
    assert httpx.get(url, headers={**headers, "Authorization": GOOD_BASIC}).status_code == 200


def test_failed_logins_in_alternate_forms_count_too(behind_proxy: str) -> None:
    headers = new_client()
    codes = []
    for _ in range(FAILED_LOGIN_BURST + 1):
        wrong = base64.b64encode(f"{KEY_ID}:psk_{uuid.uuid4().hex}".encode()).decode()
        form = {"Authorization": f"Basic {wrong}", "X-Experience-API-Version": "1.0.3"}
        answer = httpx.post(
            f"{behind_proxy}/xapi/statements", params={"method": "GET"}, data=form, headers=headers
        )
        codes.append(answer.status_code)
    assert codes == [401] * FAILED_LOGIN_BURST + [429], codes


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(behind_proxy: str, direct: str) -> None:
    """Behind the trusted proxy each named client has its own budget; elsewhere the header
    is ignored, so a client cannot escape the limit by naming another address."""
    for gateway, second_status in ((behind_proxy, 401), (direct, 429)):
        first, second = new_client(), new_client()
        url = f"{gateway}/v1/users/u1/progress"

        def made_up() -> dict[str, str]:
            return {"Authorization": f"Bearer psk_{uuid.uuid4().hex}"}

        for _ in range(FAILED_LOGIN_BURST):
            assert httpx.get(url, headers={**first, **made_up()}).status_code == 401
        assert httpx.get(url, headers={**first, **made_up()}).status_code == 429
        answer = httpx.get(url, headers={**second, **made_up()})
        assert answer.status_code == second_status, (gateway, answer.text)


def test_deep_values_answer_400_naming_the_depth(stack: Stack, user_id: str) -> None:
    """Item 10: an extension 480 deep and a JWS payload 5,000 deep answered 500."""
    deep: Any = 1
    for _ in range(480):
        deep = {"a": deep}
    extended = statement_for(user_id, result={"extensions": {"http://example.com/x": deep}})
    signed = statement_for(user_id)
    header, _, signature = jws(signed).split(b".")
    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    deep_payload = base64.urlsafe_b64encode(nested).rstrip(b"=")
    content_type, body = signed_multipart(
        signed_body(signed, b".".join([header, deep_payload, signature]))
    )
    with lrs_client(stack) as lrs:
        answers = [
            lrs.post("/statements", json=extended),
            lrs.post("/statements", content=body, headers={"Content-Type": content_type}),
        ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert f"deeper than {MAX_XAPI_DEPTH} levels" in answer.json()["error"]["message"]

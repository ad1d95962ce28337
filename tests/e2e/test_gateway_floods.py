"""Floods stay bounded, on a gateway of its own with small budgets and short deadlines.

Odd methods and random paths add no metric series; one user cannot spend the tenant's
budget; 200 slow clients cannot hold the gateway; failed authentications are limited per
client address. The tests run in file order: the last one uses up 127.0.0.1's
authentication budget.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import string
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.adapters.embedded import EmbeddedServer, free_port
from shared.adapters.settings import Settings
from shared.domain import EVENT_TYPES
from tests.support.services import TEST_API_KEY, metrics_text, service_process

pytestmark = pytest.mark.e2e

HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}
DEADLINE_SECONDS = 3.0
USER_BURST = 5
TENANT_BURST = 60
FAILED_AUTH_BURST = 5
USER_REFILL_PER_SECOND = 0.1
FAILED_AUTH_REFILL_PER_SECOND = 0.5
STANDARD_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@pytest.fixture(scope="module")
def flooded(settings: Settings, workdir: Path) -> Iterator[EmbeddedServer]:
    own = settings.model_copy(
        update={
            "gateway_port": free_port(),
            "rate_limit_events_per_second": 20.0,
            "rate_limit_burst": TENANT_BURST,
            # Refills slow enough that a loaded machine cannot earn a token back mid-test.
            "rate_limit_user_events_per_second": USER_REFILL_PER_SECOND,
            "rate_limit_user_burst": USER_BURST,
            "rate_limit_unauthenticated_per_second": FAILED_AUTH_REFILL_PER_SECOND,
            "rate_limit_unauthenticated_burst": FAILED_AUTH_BURST,
            "http_header_timeout_seconds": DEADLINE_SECONDS,
            "http_body_timeout_seconds": DEADLINE_SECONDS,
            # The slow writers authenticate from their headers and cache the key; it must
            # not expire in the middle of the failed-login test that relies on it.
            "auth_cache_seconds": 120.0,
        }
    )
    process = service_process(
        own, "flooded-gateway", "services.gateway", own.gateway_port, workdir / "logs"
    )
    process.start(timeout=60)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def gateway(flooded: EmbeddedServer) -> str:
    return f"http://127.0.0.1:{flooded.port}"


def event(event_id: str, event_type: str = "content.progressed", **payload: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "flood-test",
        "type": event_type,
        "payload": {"contentId": "lesson-1", "status": "completed", **payload},
    }


def new_user() -> str:
    return f"flood-{uuid.uuid4().hex[:10]}"


def series(flooded: EmbeddedServer, name: str) -> set[tuple[tuple[str, str], ...]]:
    text = metrics_text(flooded)
    return {
        tuple(sorted(sample.labels.items()))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def random_token(length: int) -> str:
    return "".join(random.choices(string.ascii_uppercase, k=length))


def test_odd_methods_random_paths_and_unknown_types_add_no_metric_series(
    gateway: str, flooded: EmbeddedServer
) -> None:
    methods = ["GET", "POST", "DELETE", "FOO", "PROPFIND", "BREW"]
    with httpx.Client(base_url=gateway) as client:
        for _ in range(50):
            client.request(random.choice(methods), f"/r/{uuid.uuid4().hex}")
        for _ in range(10):
            body = {"events": [event(f"t-{uuid.uuid4()}", random_token(12))]}
            client.put(f"/v1/users/{new_user()}/progress", json=body, headers=HEADERS)
        series(flooded, "progress_gateway_request_seconds_count")  # the scrape's own series
        requests_before = series(flooded, "progress_gateway_request_seconds_count")
        events_before = series(flooded, "progress_gateway_events_total")
        for index in range(1000):
            method = random.choice([*methods, random_token(random.randint(3, 9))])
            answer = client.request(method, f"/{uuid.uuid4().hex}/{index}?q={index}")
            assert answer.status_code in (404, 405, 415), answer.text
        for _ in range(10):
            body = {"events": [event(f"t-{uuid.uuid4()}", random_token(12))]}
            client.put(f"/v1/users/{new_user()}/progress", json=body, headers=HEADERS)
    assert series(flooded, "progress_gateway_request_seconds_count") == requests_before
    assert series(flooded, "progress_gateway_events_total") == events_before
    for labels in map(dict, requests_before):
        assert labels["method"] in STANDARD_METHODS | {"other"}
        assert labels["route"] == "unmatched" or labels["route"].startswith("/")
        assert labels["route"].count("/") < 6, labels
    assert {labels["method"] for labels in map(dict, requests_before)} >= {"other"}
    for labels in map(dict, events_before):
        assert labels["type"] in set(EVENT_TYPES) | {"unknown"}


def test_one_user_cannot_spend_the_tenants_budget(gateway: str) -> None:
    greedy, other = new_user(), new_user()

    def write(user: str, count: int) -> httpx.Response:
        body = {"events": [event(f"u-{uuid.uuid4()}") for _ in range(count)]}
        return httpx.put(f"{gateway}/v1/users/{user}/progress", json=body, headers=HEADERS)

    assert write(greedy, USER_BURST).status_code == 202
    for _ in range(2 * TENANT_BURST // USER_BURST):
        refused = write(greedy, USER_BURST)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "user rate limit" in refused.json()["error"]["message"]
        assert int(refused.headers["Retry-After"]) >= 1
    # The refusals above charged the greedy user only, never the tenant.
    assert write(other, USER_BURST).status_code == 202


async def _trickle_head(gateway_port: int, stop_at: float) -> tuple[int, int]:
    """Send a request head a byte at a time, reconnecting when cut; (cut, 408s seen)."""
    cut = 0
    while time.monotonic() < stop_at:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway_port)
        head = (
            b"GET /v1/users/slow/progress HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: a\r\n" * 99
        )
        for byte in head:
            writer.write(bytes([byte]))
            try:
                if await asyncio.wait_for(reader.read(1024), 0.1) == b"":
                    cut += 1
                    break
            except TimeoutError:
                if time.monotonic() >= stop_at:
                    break
            except ConnectionError:
                cut += 1
                break
        writer.close()
    return cut, 0


async def _trickle_body(gateway_port: int, stop_at: float) -> tuple[int, int]:
    """Send a write's body a byte at a time, reconnecting when cut; (cut, 408s seen)."""
    cut = timeouts = 0
    while time.monotonic() < stop_at:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway_port)
        writer.write(
            b"PUT /v1/users/slow/progress HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {TEST_API_KEY}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
        )
        while time.monotonic() < stop_at:
            writer.write(b" ")
            try:
                answer = await asyncio.wait_for(reader.read(4096), 0.1)
            except TimeoutError:
                continue
            except ConnectionError:
                answer = b""
            cut += 1
            timeouts += answer.startswith(b"HTTP/1.1 408")
            break
        writer.close()
    return cut, timeouts


async def _normal_requests(gateway: str, stop_at: float) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(base_url=gateway, headers=HEADERS, timeout=10) as client:
        while time.monotonic() < stop_at:
            user = new_user()
            started = time.monotonic()
            written = await client.put(
                f"/v1/users/{user}/progress", json={"events": [event(f"n-{uuid.uuid4()}")]}
            )
            read = await client.get(f"/v1/users/{user}/progress")
            latencies.append((time.monotonic() - started) / 2)
            assert (written.status_code, read.status_code) == (202, 200), written.text
            await asyncio.sleep(0.1)
    return latencies


async def _siege(gateway: str, port: int, seconds: float) -> dict[str, Any]:
    stop_at = time.monotonic() + seconds
    heads = [_trickle_head(port, stop_at) for _ in range(100)]
    bodies = [_trickle_body(port, stop_at) for _ in range(100)]
    await asyncio.sleep(0.5)  # let the 200 slow connections open first
    latencies, *results = await asyncio.gather(_normal_requests(gateway, stop_at), *heads, *bodies)
    return {"latencies": latencies, "heads": results[:100], "bodies": results[100:]}


def test_200_slow_clients_cannot_hold_the_gateway(gateway: str) -> None:
    port = int(gateway.rsplit(":", 1)[1])
    outcome = asyncio.run(_siege(gateway, port, seconds=3 * DEADLINE_SECONDS))
    latencies = outcome["latencies"]
    assert len(latencies) >= 10, f"only {len(latencies)} normal requests answered"
    assert max(latencies) < 2.0, f"slowest normal request {max(latencies):.2f}s"
    assert statistics.median(latencies) < 0.5
    # Every slow client was cut by the gateway at least once: heads by the head deadline,
    # bodies with a 408 from the body deadline.
    assert all(cut >= 1 for cut, _ in outcome["heads"]), outcome["heads"]
    assert all(cut >= 1 and timeouts >= 1 for cut, timeouts in outcome["bodies"])


def test_a_slow_head_is_cut_at_the_deadline(gateway: str) -> None:
    port = int(gateway.rsplit(":", 1)[1])

    async def hold() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        writer.write(b"GET /healthz HTTP/1.1\r\n")
        while await reader.read(1024) != b"":
            pass
        writer.close()
        return time.monotonic() - started

    held = asyncio.run(asyncio.wait_for(hold(), 4 * DEADLINE_SECONDS))
    assert DEADLINE_SECONDS - 0.5 < held < DEADLINE_SECONDS + 2


def test_failed_authentications_are_limited_per_client_address(gateway: str) -> None:
    url = f"{gateway}/v1/users/{new_user()}/progress"
    assert httpx.get(url, headers=HEADERS).status_code == 200  # the real key is now cached

    def made_up() -> dict[str, str]:
        return {"Authorization": f"Bearer psk_{uuid.uuid4().hex}"}

    statuses = [httpx.get(url, headers=made_up()).status_code for _ in range(FAILED_AUTH_BURST)]
    assert statuses == [401] * FAILED_AUTH_BURST
    refused = httpx.get(url, headers=made_up())
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "failed authentications" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    # A cached credential behind the same address still works; nothing else is looked up.
    cached = httpx.get(url, headers=HEADERS)
    assert cached.status_code == 200, cached.text
    time.sleep(1.5 / FAILED_AUTH_REFILL_PER_SECOND)  # the address earns back one attempt
    assert httpx.get(url, headers=made_up()).status_code == 401

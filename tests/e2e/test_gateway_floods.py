"""Floods stay bounded, on a gateway of its own with small budgets and short deadlines.

Odd methods and random paths add no metric series; a body nested too deep is a 400 before
any parser sees it; one user cannot spend the tenant's budget; 200 slow clients cannot hold
the gateway; failed authentications are limited per client address. The tests run in
file order: the last one uses up 127.0.0.1's authentication budget.
"""

from __future__ import annotations

import asyncio
import json
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

from services.gateway.json_text import MAX_BODY_DEPTH
from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.domain import EVENT_TYPES
from tests.support.services import TEST_API_KEY, service_process

pytestmark = pytest.mark.e2e

HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}
DEADLINE_SECONDS = 3.0
USER_BURST = 5
TENANT_BURST = 60
FAILED_AUTH_BURST = 5
STANDARD_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@pytest.fixture(scope="module")
def gateway(settings: Settings, workdir: Path) -> Iterator[str]:
    own = settings.model_copy(
        update={
            "gateway_port": free_port(),
            "rate_limit_events_per_second": 20.0,
            "rate_limit_burst": TENANT_BURST,
            "rate_limit_user_events_per_second": 1.0,
            "rate_limit_user_burst": USER_BURST,
            "rate_limit_unauthenticated_per_second": 1.0,
            "rate_limit_unauthenticated_burst": FAILED_AUTH_BURST,
            "http_header_timeout_seconds": DEADLINE_SECONDS,
            "http_body_timeout_seconds": DEADLINE_SECONDS,
        }
    )
    process = service_process(
        own, "flooded-gateway", "services.gateway", own.gateway_port, workdir / "logs"
    )
    process.start(timeout=60)
    try:
        yield f"http://127.0.0.1:{own.gateway_port}"
    finally:
        process.stop()


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


def series(gateway: str, name: str) -> set[tuple[tuple[str, str], ...]]:
    text = httpx.get(f"{gateway}/metrics").text
    return {
        tuple(sorted(sample.labels.items()))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def random_token(length: int) -> str:
    return "".join(random.choices(string.ascii_uppercase, k=length))


def test_odd_methods_random_paths_and_unknown_types_add_no_metric_series(gateway: str) -> None:
    methods = ["GET", "POST", "DELETE", "FOO", "PROPFIND", "BREW"]
    with httpx.Client(base_url=gateway) as client:
        for _ in range(50):
            client.request(random.choice(methods), f"/r/{uuid.uuid4().hex}")
        for _ in range(10):
            body = {"events": [event(f"t-{uuid.uuid4()}", random_token(12))]}
            client.put(f"/v1/users/{new_user()}/progress", json=body, headers=HEADERS)
        series(gateway, "progress_gateway_request_seconds_count")  # the scrape's own series
        requests_before = series(gateway, "progress_gateway_request_seconds_count")
        events_before = series(gateway, "progress_gateway_events_total")
        for index in range(1000):
            method = random.choice([*methods, random_token(random.randint(3, 9))])
            answer = client.request(method, f"/{uuid.uuid4().hex}/{index}?q={index}")
            assert answer.status_code in (404, 405, 415), answer.text
        for _ in range(10):
            body = {"events": [event(f"t-{uuid.uuid4()}", random_token(12))]}
            client.put(f"/v1/users/{new_user()}/progress", json=body, headers=HEADERS)
    assert series(gateway, "progress_gateway_request_seconds_count") == requests_before
    assert series(gateway, "progress_gateway_events_total") == events_before
    for labels in map(dict, requests_before):
        assert labels["method"] in STANDARD_METHODS | {"other"}
        assert labels["route"] == "unmatched" or labels["route"].startswith("/")
        assert labels["route"].count("/") < 6, labels
    assert {labels["method"] for labels in map(dict, requests_before)} >= {"other"}
    for labels in map(dict, events_before):
        assert labels["type"] in set(EVENT_TYPES) | {"unknown"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_write(gateway: str, state_depth: int) -> httpx.Response:
    """One event whose state nests `state_depth` levels; the envelope adds 6 more."""
    state = f'{{"kind":"custom","deep":{nested(state_depth)}}}'
    good = event(f"good-{uuid.uuid4()}")
    raw = (
        '{"events":[{"eventId":"deep-1","occurredAt":"2026-11-20T10:00:00Z",'
        '"clientId":"c","type":"content.progressed","payload":{"contentId":"l1",'
        f'"status":"completed","interaction":{{"interactionId":"q","state":{state}}}}}}},'
        f"{json.dumps(good)}]}}"
    )
    return httpx.put(
        f"{gateway}/v1/users/{new_user()}/progress",
        content=raw.encode(),
        headers={**HEADERS, "Content-Type": "application/json"},
    )


def test_a_body_at_the_depth_bound_is_parsed_and_only_the_deep_event_rejected(
    gateway: str,
) -> None:
    answer = deep_write(gateway, MAX_BODY_DEPTH - 6)
    assert answer.status_code == 202, answer.text
    deep, good = answer.json()["results"]
    assert (deep["status"], deep["field"]) == ("rejected", "payload.interaction.state")
    assert good["status"] == "accepted"


@pytest.mark.parametrize("state_depth", [MAX_BODY_DEPTH - 5, 1_500, 100_000])
def test_a_body_nested_past_the_bound_is_400_naming_the_limit(
    gateway: str, state_depth: int
) -> None:
    """Past the bound no parser ever sees the body (the stdlib's recurses to ~1,000)."""
    answer = deep_write(gateway, state_depth)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == {
        "code": "too_deep",
        "message": f"the body nests arrays and objects deeper than {MAX_BODY_DEPTH} levels",
    }


def test_brackets_inside_strings_do_not_count_as_depth(gateway: str) -> None:
    body = {"events": [event(f"s-{uuid.uuid4()}", contentId="[" * 500 + "]" * 500)]}
    answer = httpx.put(f"{gateway}/v1/users/{new_user()}/progress", json=body, headers=HEADERS)
    assert answer.status_code == 202, answer.text


def put_raw(gateway: str, raw: str) -> httpx.Response:
    return httpx.put(
        f"{gateway}/v1/users/{new_user()}/progress",
        content=raw.encode(),
        headers={**HEADERS, "Content-Type": "application/json"},
    )


def media_event(event_id: str, position: str, content_id: str = "video-1") -> str:
    return (
        f'{{"eventId":"{event_id}","occurredAt":"2026-11-20T10:00:00Z","clientId":"c",'
        f'"type":"media.progressed","payload":{{"contentId":"{content_id}",'
        f'"positionSeconds":{position},"durationSeconds":10,"watchedSeconds":1}}}}'
    )


def test_a_number_too_large_rejects_its_event_only(gateway: str) -> None:
    good, huge = f"good-{uuid.uuid4()}", f"huge-{uuid.uuid4()}"
    raw = f'{{"events":[{media_event(good, "1")},{media_event(huge, "1" + "0" * 400)}]}}'
    answer = put_raw(gateway, raw)
    assert answer.status_code == 202, answer.text
    results = {item["eventId"]: item for item in answer.json()["results"]}
    assert results[good]["status"] == "accepted"
    assert results[huge]["status"] == "rejected"
    assert "payload.positionSeconds" in results[huge]["error"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"events":[' + media_event("e", "1" + "0" * 5000) + "]}", "at most 4,300 digits"),
        ('{"events":[{"eventId":"\\ud800"}]}', "lone UTF-16 surrogate"),
        ('{"events":[' + media_event("e", "1", "x\\udc00") + "]}", "lone UTF-16 surrogate"),
    ],
    ids=["5,000-digit integer", "lone surrogate in an echoed id", "lone low surrogate"],
)
def test_text_no_parser_can_take_is_400_malformed_json(
    gateway: str, raw: str, expected: str
) -> None:
    answer = put_raw(gateway, raw)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "malformed_json"
    assert expected in answer.json()["error"]["message"]


def test_a_surrogate_pair_is_ordinary_text(gateway: str) -> None:
    answer = put_raw(gateway, '{"events":[' + media_event("pair", "1", "x\\ud83d\\ude00") + "]}")
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 1


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
    assert httpx.get(url, headers=HEADERS).status_code == 200
    time.sleep(1.5)  # the address earns back one attempt per second
    assert httpx.get(url, headers=made_up()).status_code == 401

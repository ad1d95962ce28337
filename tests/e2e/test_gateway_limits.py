"""Limits and failure semantics on a gateway of their own: rate limit, CORS, broker frozen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import create_topics
from tests.support.backends import PrivateBroker, private_broker
from tests.support.services import TEST_API_KEY, service_process

pytestmark = pytest.mark.e2e

HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}
ORIGIN = "https://app.example"


def event(event_id: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "limits-test",
        "type": "content.rated",
        "payload": {"contentId": "lesson-1", "rating": "easy"},
    }


@pytest.fixture(scope="module")
def own_broker(workdir: Path) -> Iterator[PrivateBroker]:
    with private_broker(workdir / "own-broker") as broker:
        yield broker


@pytest.fixture(scope="module")
def gateway(settings: Settings, own_broker: PrivateBroker, workdir: Path) -> Iterator[str]:
    """A gateway on its own broker, with a tiny rate limit, CORS on and a 2 s publish bound."""
    own = settings.model_copy(
        update={
            "kafka_bootstrap": own_broker.bootstrap,
            "gateway_port": free_port(),
            "rate_limit_events_per_second": 2.0,
            "rate_limit_burst": 6,
            "cors_origins": ORIGIN,
            "kafka_request_timeout_ms": 2000,
        }
    )
    asyncio.run(create_topics(own))
    process = service_process(
        own, "limited-gateway", "services.gateway", own.gateway_port, workdir / "logs"
    )
    process.start(timeout=60)
    try:
        yield f"http://127.0.0.1:{own.gateway_port}"
    finally:
        process.stop()


def test_rate_limit_answers_429_with_retry_after(gateway: str) -> None:
    url = f"{gateway}/v1/users/rl-user/progress"
    statuses = []
    for index in range(4):
        response = httpx.put(
            url, json={"events": [event(f"rl-{index}-{i}") for i in range(2)]}, headers=HEADERS
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["error"]["code"] == "rate_limited"
    assert statuses[:3] == [202, 202, 202]
    assert statuses[3] == 429


def test_an_import_costs_one_token_per_derived_event(gateway: str) -> None:
    """The tenant's bucket holds 6 tokens and earns 2/s: two imports deriving 4 events each
    cannot both pass (an import used to cost one token, whatever it derived)."""
    state = {"items": {f"lesson-{n}": {"status": "completed"} for n in range(4)}}
    statuses = [
        httpx.post(
            f"{gateway}/v1/users/cost-user/import", json={"state": state}, headers=HEADERS
        ).status_code
        for _ in range(2)
    ]
    assert 429 in statuses


def test_cors_preflight_allows_the_configured_origin_only(gateway: str) -> None:
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }
    allowed = httpx.options(f"{gateway}/v1/users/u1/progress", headers=preflight)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    simple = httpx.get(f"{gateway}/healthz", headers={"Origin": ORIGIN})
    exposed = {
        h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")
    }
    assert exposed >= {
        "retry-after",
        "x-request-id",
        "progress-consistent",
        "progress-consistency-token",
        "progress-signature",
    }
    odd_header = {**preflight, "Access-Control-Request-Headers": "x-not-allowed"}
    assert httpx.options(f"{gateway}/v1/users/u1/progress", headers=odd_header).status_code == 400
    denied = httpx.options(
        f"{gateway}/v1/users/u1/progress", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in denied.headers


def test_frozen_broker_gives_503_in_bounded_time_and_recovers(
    gateway: str, own_broker: PrivateBroker
) -> None:
    time.sleep(3.5)  # let the rate-limit bucket refill after the previous test
    url = f"{gateway}/v1/users/frozen-user/progress"
    assert httpx.put(url, json={"events": [event("warm-up")]}, headers=HEADERS).status_code == 202
    own_broker.faults.freeze()
    try:
        started = time.monotonic()
        response = httpx.put(url, json={"events": [event("during")]}, headers=HEADERS, timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert "Resend the whole batch" in response.json()["error"]["message"]
        assert elapsed < 10, f"a write hung for {elapsed:.1f}s"
        ready = httpx.get(f"{gateway}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["kafka"] == "unavailable"
    finally:
        own_broker.faults.thaw()
    deadline = time.monotonic() + 30
    while True:
        again = httpx.put(url, json={"events": [event("after")]}, headers=HEADERS, timeout=30)
        if again.status_code == 202 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert again.status_code == 202, again.text
    assert httpx.get(f"{gateway}/readyz", timeout=10).status_code == 200

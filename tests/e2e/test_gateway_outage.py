"""MongoDB frozen under a gateway of its own: every route answers 503 in the JSON shape.

The database is frozen (SIGSTOP, or docker pause on the real backend: it neither answers
nor refuses), so each look-up runs into the client's timeout. Unknown credentials seen
before the freeze are remembered as misses and still answer 401 without asking the database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from tests.support.backends import ServerFaults, private_backend
from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET, service_process

pytestmark = pytest.mark.e2e

AUTH_CACHE_SECONDS = 4.0
HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}
COURSE = {"title": "Outage 101", "items": [{"contentId": "lesson-1", "kind": "step"}]}


@dataclass
class FrozenStack:
    url: str
    database: ServerFaults


def user_token(user: str, tenant: str = "demo") -> str:
    now = int(time.time())
    claims = {"sub": user, "tid": tenant, "iat": now, "exp": now + 300}
    return jwt.encode(claims, TEST_SIGNING_SECRET, algorithm="HS256")


def event(event_id: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "outage-test",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "completed"},
    }


def every_route(user: str) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]:
    """Each API operation of docs/openapi.json with a body it accepts (ops routes aside)."""
    token = {"Authorization": f"Bearer {user_token(user)}"}
    return [
        ("PUT", f"/v1/users/{user}/progress", {"events": [event(f"e-{uuid.uuid4()}")]}, HEADERS),
        ("PUT", f"/v1/users/{user}/progress", {"events": [event(f"t-{uuid.uuid4()}")]}, token),
        ("GET", f"/v1/users/{user}/progress", None, HEADERS),
        ("GET", f"/v1/users/{user}/progress", None, token),
        ("DELETE", f"/v1/users/{user}/progress", None, HEADERS),
        (
            "POST",
            "/v1/events",
            {"events": [{**event(f"b-{uuid.uuid4()}"), "userId": user}]},
            HEADERS,
        ),
        ("GET", f"/v1/users/{user}/courses/outage-101", None, HEADERS),
        ("GET", "/v1/catalog/courses", None, HEADERS),
        ("GET", "/v1/catalog/courses/outage-101", None, HEADERS),
        ("PUT", "/v1/catalog/courses/outage-101", COURSE, HEADERS),
        ("DELETE", "/v1/catalog/courses/outage-gone", None, HEADERS),
    ]


@pytest.fixture(scope="module")
def frozen_stack(settings: Settings, workdir: Path) -> Iterator[FrozenStack]:
    """A broker, database and gateway of their own; the database may be frozen."""
    with private_backend(workdir / "outage") as backend:
        own = settings.model_copy(
            update={
                "kafka_bootstrap": backend.kafka_bootstrap,
                "mongo_url": backend.mongo_url,
                "gateway_port": free_port(),
                "mongo_timeout_ms": 1000,
                "auth_cache_seconds": AUTH_CACHE_SECONDS,
            }
        )
        asyncio.run(prepare_stack(own))
        gateway = service_process(
            own, "outage-gateway", "services.gateway", own.gateway_port, workdir / "logs"
        )
        gateway.start(timeout=60)
        try:
            yield FrozenStack(f"http://127.0.0.1:{own.gateway_port}", backend.database_faults())
        finally:
            gateway.stop()


def test_every_route_answers_503_with_retry_after_while_mongodb_is_frozen(
    frozen_stack: FrozenStack,
) -> None:
    user = f"outage-{uuid.uuid4().hex[:8]}"
    bogus_key = {"Authorization": "Bearer psk_made-up-key"}
    bogus_tenant = {"Authorization": f"Bearer {user_token(user, tenant='no-such-tenant')}"}
    with httpx.Client(base_url=frozen_stack.url, timeout=30) as client:
        for method, path, body, headers in every_route(user):
            answer = client.request(method, path, json=body, headers=headers)
            assert answer.status_code < 500, f"{method} {path} before the freeze: {answer.text}"
        for headers in (bogus_key, bogus_tenant):
            assert client.get(f"/v1/users/{user}/progress", headers=headers).status_code == 401
        frozen_stack.database.freeze()
        try:
            for headers in (bogus_key, bogus_tenant):
                started = time.monotonic()
                answer = client.get(f"/v1/users/{user}/progress", headers=headers)
                assert answer.status_code == 401, "a remembered miss must not ask the database"
                assert time.monotonic() - started < 0.5
            time.sleep(AUTH_CACHE_SECONDS + 0.5)  # every cached credential is gone now
            for method, path, body, headers in every_route(user):
                started = time.monotonic()
                answer = client.request(method, path, json=body, headers=headers)
                elapsed = time.monotonic() - started
                assert answer.status_code == 503, f"{method} {path}: {answer.text}"
                assert answer.headers["Retry-After"] == "5"
                assert answer.json()["error"]["code"] == "store_unavailable"
                assert answer.headers["X-Request-ID"]
                assert elapsed < 5, f"{method} {path} took {elapsed:.1f}s"
        finally:
            frozen_stack.database.thaw()
        deadline = time.monotonic() + 30
        while client.get(f"/v1/users/{user}/progress", headers=HEADERS).status_code != 200:
            assert time.monotonic() < deadline, "the gateway did not recover after the thaw"
            time.sleep(0.5)

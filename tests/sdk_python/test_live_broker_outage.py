"""The SDK through a broker outage: a gateway, projector and broker of this module's own.

The broker is frozen (SIGSTOP, or docker pause on the real backend; never the session's:
other tests use it), so the gateway answers 503 with Retry-After; the client must wait, keep
every event, and deliver them all once the broker is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from progress_sync_client import AsyncProgressClient, SyncStatus

from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import create_topics
from tests.support.backends import PrivateBroker, private_broker
from tests.support.services import TEST_API_KEY, eventually, service_process

pytestmark = pytest.mark.e2e


@dataclass
class OwnStack:
    broker: PrivateBroker
    gateway_url: str


@pytest.fixture(scope="module")
def own_stack(settings: Settings, workdir: Path) -> Iterator[OwnStack]:
    """A broker, gateway and projector of their own, on the session's database."""
    with private_broker(workdir / "sdk-outage") as broker:
        own = settings.model_copy(
            update={
                "kafka_bootstrap": broker.bootstrap,
                "gateway_port": free_port(),
                "projector_port": free_port(),
                "kafka_request_timeout_ms": 2000,
            }
        )
        asyncio.run(create_topics(own))
        logs = workdir / "sdk-outage" / "logs"
        gateway = service_process(own, "sdk-gateway", "services.gateway", own.gateway_port, logs)
        projector = service_process(
            own, "sdk-projector", "services.projector", own.projector_port, logs
        )
        try:
            for process in (gateway, projector):
                process.start(timeout=60)
            yield OwnStack(broker, f"http://127.0.0.1:{own.gateway_port}")
        finally:
            for process in (gateway, projector):
                process.stop()


async def test_frozen_broker_the_client_backs_off_then_delivers_everything(
    own_stack: OwnStack, user_id: str, tmp_path: Path
) -> None:
    statuses: list[SyncStatus] = []
    client = AsyncProgressClient(
        own_stack.gateway_url,
        api_key=TEST_API_KEY,
        outbox=tmp_path / "outbox.sqlite3",
        on_status=statuses.append,
    )
    await client.start()
    own_stack.broker.faults.freeze()
    try:
        events = [client.events.content_rated(f"item-{i}", "easy") for i in range(100)]
        for event in events:
            await client.track(user_id, event)
        deadline = time.monotonic() + 30
        while not any(s.state == "pending" and s.retry_in_ms > 0 for s in statuses):
            assert time.monotonic() < deadline, statuses
            await asyncio.sleep(0.1)
        assert client.pending() == 100
    finally:
        own_stack.broker.faults.thaw()
    report = await client.close(timeout=90)
    assert report.drained
    assert report.queued == 0
    assert report.status.dropped == 0

    def stored() -> list[str] | None:
        page = httpx.get(
            f"{own_stack.gateway_url}/v1/users/{user_id}/progress",
            params={"since": "0"},
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
            timeout=10,
        ).json()
        ids = [event["eventId"] for event in page["events"]]
        return ids if len(ids) >= 100 else None

    ids = eventually(stored, timeout=60, interval=0.5)
    assert sorted(ids) == sorted(event.event_id for event in events)

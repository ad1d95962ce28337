"""Live sync through faults: a client that resumes from its last id gets every event once.

Destructive, so on a broker, database and services of their own: the projector is killed
with SIGKILL mid-stream and restarted; the broker is frozen (SIGSTOP), which loses the
gateway's change announcements meanwhile, then thawed.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from tests.e2e.test_operations_cli import event
from tests.support.backends import Backend, embedded_backend
from tests.support.live import events_until, opened_stream
from tests.support.services import (
    PRIVATE_GROUP_TIMING,
    TEST_API_KEY,
    Stack,
    eventually,
    running_stack,
    service_process,
)

pytestmark = pytest.mark.e2e

HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}


@dataclass
class FaultyStack:
    stack: Stack
    backend: Backend


@pytest.fixture(scope="module")
def faulty(settings: Settings, workdir: Path) -> Iterator[FaultyStack]:
    with embedded_backend(workdir / "live-faults") as backend:
        own = settings.model_copy(
            update={
                "kafka_bootstrap": backend.kafka_bootstrap,
                "mongo_url": backend.mongo_url,
                "gateway_port": free_port(),
                "projector_port": free_port(),
                "retry_worker_port": free_port(),
                "kafka_request_timeout_ms": 2000,
                "stream_keep_alive_seconds": 0.5,
                "stream_reread_seconds": 1.0,
                **PRIVATE_GROUP_TIMING,
            }
        )
        asyncio.run(prepare_stack(own))
        with running_stack(own, workdir / "live-faults" / "logs") as stack:
            yield FaultyStack(stack, backend)


@dataclass
class Follower:
    """A device following a user's stream, resuming from its last id whenever it drops."""

    url: str
    user: str
    ids: list[str] = field(default_factory=list)
    reconnects: int = 0
    last_id: str = "0"
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.done.is_set():
            try:
                with opened_stream(
                    self.url, self.user, TEST_API_KEY, last_event_id=self.last_id
                ) as (response, messages):
                    if response.status_code != 200:
                        time.sleep(0.2)
                        continue
                    for message in messages:
                        if message.event == "events":
                            self.ids += [item["eventId"] for item in message.json()["events"]]
                            self.last_id = message.id or self.last_id
                        if self.done.is_set() or message.event == "closed":
                            break
            except httpx.HTTPError:
                time.sleep(0.2)
            self.reconnects += 1


@contextmanager
def following(url: str, user: str) -> Iterator[Follower]:
    follower = Follower(url, user)
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    try:
        yield follower
    finally:
        follower.done.set()
        thread.join(15)


def _write(url: str, user: str, event_ids: list[str]) -> None:
    """Send until accepted: a 503 (broker frozen) is retried, as a client does."""
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.put(
                f"{url}/v1/users/{user}/progress",
                json={"events": [event(event_id) for event_id in event_ids]},
                headers=HEADERS,
                timeout=5,
            )
            if answer.status_code == 202:
                return
            assert answer.status_code == 503, answer.text
        except httpx.TimeoutException:
            pass
        assert time.monotonic() < deadline, "the write was never accepted"
        time.sleep(0.3)


def _all_seen(follower: Follower, expected: list[str]) -> bool | None:
    return True if len(follower.ids) >= len(expected) else None


def test_a_projector_killed_mid_stream_loses_and_doubles_nothing(
    faulty: FaultyStack, user_id: str
) -> None:
    stack = faulty.stack
    written = [f"k-{batch}-{n}" for batch in range(10) for n in range(20)]
    with following(stack.gateway_url, user_id) as follower:
        for batch in range(10):
            _write(stack.gateway_url, user_id, written[batch * 20 : (batch + 1) * 20])
            if batch == 4:
                stack.projector.signal(signal.SIGKILL)
                stack.projector.stop()
                stack.projector.start(timeout=60)
        eventually(lambda: _all_seen(follower, written), timeout=60)
        time.sleep(1.0)  # a repeat would show within a re-read
    assert sorted(follower.ids) == sorted(written)
    assert len(follower.ids) == len(set(follower.ids))


def test_a_frozen_broker_mid_stream_loses_and_doubles_nothing(
    faulty: FaultyStack, user_id: str
) -> None:
    stack, broker = faulty.stack, faulty.backend.broker
    assert broker is not None
    written = [f"b-{batch}-{n}" for batch in range(6) for n in range(10)]
    with following(stack.gateway_url, user_id) as follower:
        _write(stack.gateway_url, user_id, written[:10])
        eventually(lambda: _all_seen(follower, written[:10]), timeout=30)
        _write(stack.gateway_url, user_id, written[10:20])
        broker.freeze()
        try:
            time.sleep(3)  # past the services' Kafka timeout, the projection of 10-20 pending
        finally:
            broker.thaw()
        for batch in range(2, 6):
            _write(stack.gateway_url, user_id, written[batch * 10 : (batch + 1) * 10])
        eventually(lambda: _all_seen(follower, written), timeout=60)
        time.sleep(1.0)  # a repeat would show within a re-read
    assert follower.ids == written


def test_a_gateway_that_hears_no_announcement_delivers_at_its_next_reread(
    faulty: FaultyStack, user_id: str, settings: Settings, workdir: Path
) -> None:
    """A gateway following the session's broker hears none of this stack's announcements."""
    port = free_port()
    deaf_settings = faulty.stack.settings.model_copy(
        update={"gateway_port": port, "kafka_bootstrap": settings.kafka_bootstrap}
    )
    logs = workdir / "live-faults" / "logs"
    deaf = service_process(deaf_settings, "gateway-deaf", "services.gateway", port, logs)
    try:
        deaf.start(timeout=60)
        with opened_stream(f"http://127.0.0.1:{port}", user_id, TEST_API_KEY) as (_, messages):
            next(messages)
            _write(faulty.stack.gateway_url, user_id, ["d-1"])
            events, _ = events_until(messages, 1, timeout=10)
        assert [item["eventId"] for item in events] == ["d-1"]
    finally:
        deaf.stop()

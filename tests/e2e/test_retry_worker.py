"""The retry tiers and dead letters on real processes: the flaky projector and retry worker.

Failures are injected by `tests.support.flaky_services` (the production apps with a
projection that fails chosen events). Every scenario is started at module set-up, so the
waits on the tiers overlap: the module takes about as long as the permanent failure
(1 + 5 + 15 + 60 s, ±20 %), once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from shared.adapters.clock import SystemClock
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.kafka import consumer_lag, kafka_broker
from shared.adapters.kafka_publishing import KafkaRetryRoutes
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topics import DLQ_TOPIC, EVENTS_TOPIC, tier_group, tier_topic
from shared.domain import RecordedEvent, Snapshot
from shared.service_layer.deliveries import Attempt, Delivery
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.retry_schedule import JITTER, RETRY_TIERS
from tests.support.projector import metric
from tests.support.retry_stack import (
    Message,
    RetryStack,
    env_for_cli,
    progressed,
    retry_stack,
)
from tests.support.services import eventually, metrics_text

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("killed")]

DELAYS = [tier.delay_seconds for tier in RETRY_TIERS]
# Beyond the jittered delay: the worker's fetch, the projection and the publish to the next
# tier, on a shared two-core machine.
SLACK_SECONDS = 3.0


def within_schedule(gap: float, delay: float) -> bool:
    return delay * (1 - JITTER) <= gap <= delay * (1 + JITTER) + SLACK_SECONDS


def gaps(times: list[datetime]) -> list[float]:
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]


def snapshot_with(stack: RetryStack, user: str, *items: str) -> Snapshot | None:
    snapshot = stack.snapshot(user)
    return snapshot if snapshot and set(items) <= set(snapshot.items) else None


def letters_of(stack: RetryStack, count: int, **query: Any) -> list[dict[str, Any]] | None:
    found = stack.dead_letters(**query)
    return found if len(found) == count else None


def carries(message: Message, event_id: str) -> bool:
    return f'"eventId":"{event_id}"'.encode() in message.value


def times_of(attempts: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(item["at"]) for item in attempts]


@dataclass
class Scenario:
    """What was sent at module start, all at once."""

    run: str
    sent_at: datetime
    undecodable: list[bytes] = field(default_factory=list)

    def user(self, name: str) -> str:
        return f"{name}-{self.run}"

    def event(self, name: str) -> str:
        return f"{name}-{self.run}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetryStack]:
    faults = {"once-": 1, "thrice-": 3, "always-": 1_000_000}
    with retry_stack(tmp_path_factory.mktemp("retry-tiers"), faults) as running:
        running.wait_until_consuming()
        yield running


@pytest.fixture(scope="module")
def scenario(stack: RetryStack) -> Scenario:
    sent = Scenario(run=uuid.uuid4().hex[:6], sent_at=datetime.now(UTC))
    sent.undecodable = [b"\xff\xfe not json", json.dumps({"eventId": "x", "type": "no"}).encode()]
    stack.publish(
        progressed(sent.event("once"), sent.user("once"), "lesson-once"),
        progressed(sent.event("thrice"), sent.user("thrice"), "lesson-thrice"),
        progressed(sent.event("ok"), sent.user("always"), "lesson-ok", minutes_ago=20),
        progressed(sent.event("always"), sent.user("always"), "lesson-always"),
        *(Message(key=b"demo/junk", value=raw, headers={}) for raw in sent.undecodable),
    )
    return sent


# --- kill -9 while every tier holds a message (its own broker and database) ---------------


@dataclass
class Killed:
    stack: RetryStack
    lag_at_kill: dict[str, int]
    killed_at: datetime
    user: str
    events: dict[str, str]  # tier name -> event id


async def _place_in_tiers(settings: Settings, messages: dict[int, Message]) -> None:
    """Put each message in the tier of its attempt, through the production router."""
    broker = kafka_broker(settings, client_id="test-placer")
    client = mongo_client(settings)
    router = FailureRouter(
        KafkaRetryRoutes(broker),
        MongoDeadLetterStore(client[settings.mongo_database]),
        SystemClock(),
    )
    await broker.start()
    try:
        for tier_number, message in sorted(messages.items(), reverse=True):
            now = datetime.now(UTC)
            earlier = [Attempt(n, "failed before the kill", now) for n in range(1, tier_number)]
            delivery = Delivery(
                raw=message.value,
                key=message.key,
                topic=EVENTS_TOPIC,
                partition=0,
                offset=10_000 + tier_number,
                request_id=message.headers["request-id"],
                attempts=earlier,
            )
            event = RecordedEvent.from_json(message.value)
            await router.retry_or_dead_letter(delivery, "failed before the kill", event)
    finally:
        await broker.stop()
        await client.close()


@pytest.fixture(scope="module")
def killed(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Killed]:
    """Fill every tier, kill -9 the worker while it holds them, measure, restart it.

    Depends on `scenario` only so that the main scenario's tiers are already running.
    """
    run = uuid.uuid4().hex[:6]
    user = f"victim-{run}"
    events = {
        "1s": f"kill-ok-1s-{run}",
        "5s": f"kill-again-5s-{run}",  # fails once more after the restart: on to 15s
        "15s": f"kill-ok-15s-{run}",
        "60s": f"kill-dead-60s-{run}",  # fails again: dead letter
    }
    faults = {"kill-ok-": 0, "kill-again-": 1, "kill-dead-": 1_000_000}
    with retry_stack(tmp_path_factory.mktemp("retry-kill"), faults) as stack:
        stack.wait_until_consuming()
        messages = {
            number: progressed(events[tier.name], user, f"item-{tier.name}")
            for number, tier in enumerate(RETRY_TIERS, start=1)
        }
        asyncio.run(_place_in_tiers(stack.settings, messages))
        # The 1s tier's message is due 0.8 s after it was placed, at the earliest.
        assert stack.worker.process is not None
        stack.worker.signal(signal.SIGKILL)
        stack.worker.process.wait()
        killed_at = datetime.now(UTC)
        lag = {
            tier.name: sum(
                asyncio.run(
                    consumer_lag(stack.settings, tier_group(tier), tier_topic(tier))
                ).values()
            )
            for tier in RETRY_TIERS
        }
        stack.restart_worker()
        yield Killed(stack, lag, killed_at, user, events)


# --- the tests --------------------------------------------------------------------------


def test_undecodable_messages_go_straight_to_the_dead_letters(
    stack: RetryStack, scenario: Scenario
) -> None:
    count = len(scenario.undecodable)
    letters = eventually(lambda: letters_of(stack, count, reason="undecodable"), timeout=30)
    assert sorted(bytes(letter["raw"]) for letter in letters) == sorted(scenario.undecodable)
    for letter in letters:
        assert [item["attempt"] for item in letter["attempts"]] == [1]
        assert letter["original"]["topic"] == EVENTS_TOPIC
        assert letter["state"] == "pending"
        assert letter["key"] == b"demo/junk"
    for tier in RETRY_TIERS:
        assert not {m.value for m in stack.read(tier_topic(tier))} & set(scenario.undecodable)
    dlq = [m for m in stack.read(DLQ_TOPIC) if m.value in scenario.undecodable]
    assert sorted(m.value for m in dlq) == sorted(scenario.undecodable)
    assert {m.headers["reason"] for m in dlq} == {"undecodable"}


def test_transient_failures_succeed_on_retry_one_and_retry_three_on_schedule(
    stack: RetryStack, scenario: Scenario
) -> None:
    for name, content, failures in (("once", "lesson-once", 1), ("thrice", "lesson-thrice", 3)):
        user, event_id = scenario.user(name), scenario.event(name)
        snapshot = eventually(partial(stack.snapshot, user), timeout=60)
        assert snapshot.items[content].status == "completed"
        assert snapshot.event_count == 1
        attempts = stack.attempts_of(event_id)
        outcomes = [(item["role"], item["outcome"]) for item in attempts]
        assert outcomes == [
            ("projector", "failed"),
            *[("retry_worker", "failed")] * (failures - 1),
            ("retry_worker", "passed"),
        ]
        observed = gaps(times_of(attempts))
        print(f"{name}: gaps between attempts {[round(g, 2) for g in observed]} s")
        for gap, delay in zip(observed, DELAYS, strict=False):
            assert within_schedule(gap, delay), (gap, delay)
        # Each retry came from the tier of its attempt, with the headers of the contract.
        for number, tier in enumerate(RETRY_TIERS, start=1):
            copies = [m for m in stack.read(tier_topic(tier)) if carries(m, event_id)]
            assert len(copies) == (1 if number <= failures else 0), tier.name
            for copy in copies:
                assert copy.headers["attempt"] == str(number)
                assert copy.headers["original-topic"] == EVENTS_TOPIC
                assert copy.headers["request-id"] == f"req-{event_id}"
                assert copy.headers["error"].startswith("InjectedFailure")
                assert {"original-partition", "original-offset", "first-failed-at"} <= set(
                    copy.headers
                )
        assert not stack.dead_letters(eventId=event_id)
    worker = stack.worker
    assert metric(worker, "progress_retry_events_total", tier="15s", outcome="applied") >= 1
    assert metric(worker, "progress_retry_delay_seconds_count", outcome="applied") >= 2


def test_a_permanent_failure_is_retried_four_times_then_dead_lettered(
    stack: RetryStack, scenario: Scenario
) -> None:
    event_id, user = scenario.event("always"), scenario.user("always")
    budget = sum(delay * (1 + JITTER) + SLACK_SECONDS for delay in DELAYS) + 30
    (letter,) = eventually(lambda: stack.dead_letters(eventId=event_id) or None, timeout=budget)
    assert letter["reason"] == "retries_exhausted"
    assert [item["attempt"] for item in letter["attempts"]] == [1, 2, 3, 4, 5]
    assert all(item["error"].startswith("InjectedFailure") for item in letter["attempts"])
    history = [datetime.fromisoformat(item["at"]) for item in letter["attempts"]]
    observed = gaps(history)
    print(f"always: gaps between attempts {[round(g, 2) for g in observed]} s")
    assert all(within_schedule(gap, delay) for gap, delay in zip(observed, DELAYS, strict=True))
    assert (letter["tenant"], letter["user"]) == ("demo", user)
    assert letter["type"] == "content.progressed"
    assert letter["requestId"] == f"req-{event_id}"
    assert letter["original"]["topic"] == EVENTS_TOPIC
    assert RecordedEvent.from_json(bytes(letter["raw"])).event_id == event_id
    # Exactly one initial attempt and four retries, one per tier; nothing after.
    attempts = stack.attempts_of(event_id)
    assert [item["role"] for item in attempts] == ["projector"] + ["retry_worker"] * 4
    for tier in RETRY_TIERS:
        assert len([m for m in stack.read(tier_topic(tier)) if carries(m, event_id)]) == 1
    dlq = [m for m in stack.read(DLQ_TOPIC) if carries(m, event_id)]
    assert len(dlq) == 1
    assert dlq[0].headers["reason"] == "retries_exhausted"
    # The user's other event was never held up.
    snapshot = stack.snapshot(user)
    assert snapshot is not None
    assert set(snapshot.items) == {"lesson-ok"}
    worker = stack.worker
    assert metric(worker, "progress_dlq_events_total", reason="retries_exhausted") == 1
    delays = metric(worker, "progress_retry_delay_seconds_count", outcome="dead_lettered")
    assert delays == 1, metrics_text(worker)
    assert metric(worker, "progress_retry_events_total", tier="60s", outcome="failed") == 1
    eventually(lambda: metric(worker, "progress_dlq_size") == 3 or None, timeout=30)


def progressctl(stack: RetryStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.progressctl", "dlq", *args],
        env=env_for_cli(stack.settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_replay_after_the_fix_restores_the_snapshot_and_twice_changes_nothing(
    stack: RetryStack, scenario: Scenario
) -> None:
    event_id, user = scenario.event("always"), scenario.user("always")
    (letter,) = eventually(lambda: stack.dead_letters(eventId=event_id) or None, timeout=30)
    stack.set_faults({"always-": 0})  # the cause is fixed

    first = progressctl(stack, "replay", letter["_id"])
    assert first.returncode == 0, first.stderr
    snapshot = eventually(lambda: snapshot_with(stack, user, "lesson-always"), timeout=30)
    assert snapshot.items["lesson-always"].status == "completed"
    assert snapshot.event_count == 2
    listed = json.loads(progressctl(stack, "list", "--tenant", "demo", "--json").stdout)
    (entry,) = [item for item in listed if item["id"] == letter["_id"]]
    assert (entry["state"], entry["replays"]) == ("replayed", 1)

    second = progressctl(stack, "replay", letter["_id"], "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"replayed": [letter["_id"]]}
    # A later event of the same user lands in the same partition, after the second replay.
    stack.publish(progressed(scenario.event("marker"), user, "lesson-marker", minutes_ago=1))
    after = eventually(lambda: snapshot_with(stack, user, "lesson-marker"), timeout=30)
    assert after.event_count == 3  # the replayed event counted once
    assert after.items["lesson-always"] == snapshot.items["lesson-always"]
    replays = [m for m in stack.read(EVENTS_TOPIC) if carries(m, event_id)]
    assert len(replays) == 3  # the original and two replays, all with the original key
    assert {m.key for m in replays} == {f"demo/{user}".encode()}
    assert {m.headers["request-id"] for m in replays} == {f"req-{event_id}"}
    assert [item["outcome"] for item in stack.attempts_of(event_id)][-1] == "passed"
    assert not stack.dead_letters(eventId=event_id, state="pending")
    nothing = progressctl(stack, "replay", "--all", "--tenant", "demo-nobody")
    assert nothing.returncode == 1


def test_worker_killed_while_holding_every_tier_loses_nothing(killed: Killed) -> None:
    stack = killed.stack
    # Each tier's group had a message fetched but not committed when the worker died.
    assert all(lag >= 1 for lag in killed.lag_at_kill.values()), killed.lag_at_kill
    budget = DELAYS[-1] * (1 + JITTER) + 60
    (letter,) = eventually(
        lambda: stack.dead_letters(eventId=killed.events["60s"]) or None, timeout=budget
    )
    assert [item["attempt"] for item in letter["attempts"]] == [1, 2, 3, 4, 5]
    expected = ("item-1s", "item-5s", "item-15s")
    snapshot = eventually(lambda: snapshot_with(stack, killed.user, *expected), timeout=60)
    assert set(snapshot.items) == set(expected)
    for tier, event_id in killed.events.items():
        attempts = stack.attempts_of(event_id)
        assert attempts, f"the {tier} message was lost"
        assert all(datetime.fromisoformat(a["at"]) >= killed.killed_at for a in attempts)
    again = [item["outcome"] for item in stack.attempts_of(killed.events["5s"])]
    assert again == ["failed", "passed"]  # 5s, then on to the 15s tier
    assert len(stack.dead_letters()) == 1

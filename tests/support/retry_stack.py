"""A dedicated broker and database with the flaky projector and retry worker, and probes.

Each retry test stack gets its own embedded Tansu and SecantusDB: the retry worker's
consumer groups are fixed names, so two stacks on one broker would share the tiers, and
the destructive tests (kill -9, SIGSTOP) must never touch the session's servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import EmbeddedServer
from shared.adapters.kafka import event_headers
from shared.adapters.mongo import DEAD_LETTERS, SNAPSHOTS, user_key
from shared.adapters.settings import Settings
from shared.adapters.topics import TIER_TOPICS
from shared.domain import RecordedEvent, Snapshot, validate_event
from shared.domain.wire import message_key
from tests.support.backends import Backend, private_backend
from tests.support.flaky_services import read_attempts, write_faults
from tests.support.services import (
    PRIVATE_GROUP_TIMING,
    eventually,
    service_env,
    settings_for,
    with_metrics_port,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TENANT = "demo"


@dataclass(frozen=True)
class Message:
    """One Kafka message as a test writes or reads it."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]
    partition: int = -1
    offset: int = -1


def progressed(event_id: str, user: str, content_id: str, minutes_ago: int = 10) -> Message:
    """A valid `content.progressed` event as the gateway would publish it."""
    occurred = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    raw = {
        "eventId": event_id,
        "occurredAt": occurred.isoformat(),
        "clientId": "retry-test",
        "type": "content.progressed",
        "payload": {"contentId": content_id, "status": "completed", "score": 9},
    }
    event = RecordedEvent(
        tenant_id=TENANT,
        user_id=user,
        received_at=datetime.now(UTC),
        event=validate_event(raw, now=datetime.now(UTC)),
    )
    return Message(
        key=message_key(TENANT, user),
        value=event.to_json(),
        headers=event_headers(f"req-{event_id}"),
    )


def flaky_process(
    settings: Settings, role: str, port: int, logs: Path, faults: Path, attempts: Path
) -> EmbeddedServer:
    """The real service of `role`, with the flaky projection injected."""
    return EmbeddedServer(
        name=f"flaky-{role}",
        argv=[
            sys.executable,
            "-m",
            "tests.support.flaky_services",
            role,
            "--faults",
            str(faults),
            "--attempts",
            str(attempts),
        ],
        host="127.0.0.1",
        port=port,
        log_path=logs / f"flaky-{role}.log",
        env=with_metrics_port({**service_env(settings), "PYTHONPATH": str(REPO_ROOT)}),
    )


@dataclass
class RetryStack:
    """A dedicated backend, the flaky projector and retry worker, and what they recorded."""

    settings: Settings
    backend: Backend
    projector: EmbeddedServer
    worker: EmbeddedServer
    faults: Path
    attempts: Path

    def set_faults(self, faults: dict[str, int]) -> None:
        write_faults(self.faults, faults)

    def attempts_of(self, event_id: str) -> list[dict[str, Any]]:
        return [item for item in read_attempts(self.attempts) if item["eventId"] == event_id]

    def restart_worker(self) -> None:
        self.worker = flaky_process(
            self.settings,
            "retry_worker",
            self.settings.retry_worker_port,
            self.worker.log_path.parent,
            self.faults,
            self.attempts,
        )
        self.worker.start(timeout=60)

    def publish(self, *messages: Message, topic: str = "progress.events") -> None:
        asyncio.run(_publish(self.settings, topic, messages))

    def read(self, topic: str) -> list[Message]:
        return asyncio.run(_read(self.settings, topic))

    def snapshot(self, user: str) -> Snapshot | None:
        with self._mongo() as db:
            document = db[SNAPSHOTS].find_one({"_id": user_key(TENANT, user)})
        return Snapshot.from_storage(document["state"]) if document else None

    def dead_letters(self, **query: Any) -> list[dict[str, Any]]:
        with self._mongo() as db:
            return list(db[DEAD_LETTERS].find(query))

    def wait_until_consuming(self, timeout: float = 60.0) -> None:
        """Return once the projector and every tier's consumer have joined their groups.

        A probe event goes straight onto `progress.events` and onto each tier topic (with
        no retry headers, so it is due at once); each is projected when its group is up.
        """
        run = uuid.uuid4().hex[:6]
        topics = ["progress.events", *TIER_TOPICS]
        probes = {topic: f"probe-{run}-{index}" for index, topic in enumerate(topics)}
        self.set_faults({**self.faults_now(), "probe-": 0})
        for topic, event_id in probes.items():
            self.publish(progressed(event_id, f"probe-{run}", event_id), topic=topic)
        eventually(
            lambda: all(self.attempts_of(e) for e in probes.values()) or None, timeout=timeout
        )

    def faults_now(self) -> dict[str, int]:
        current: dict[str, int] = json.loads(self.faults.read_text())
        return current

    @contextmanager
    def _mongo(self) -> Iterator[Any]:
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        try:
            yield client[self.settings.mongo_database]
        finally:
            client.close()


@contextmanager
def retry_stack(workdir: Path, faults: dict[str, int], **overrides: Any) -> Iterator[RetryStack]:
    """Start a dedicated broker and database, the topics, and the two flaky services.

    `overrides` replace settings of this stack (e.g. a shorter `mongo_timeout_ms`, so an
    outage test sees its frozen database sooner).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    logs = workdir / "logs"
    with private_backend(workdir) as backend:
        settings = settings_for(
            backend.kafka_bootstrap,
            backend.mongo_url,
            f"retry_{uuid.uuid4().hex[:8]}",
            backend.idempotent_producer,
        ).model_copy(update={**PRIVATE_GROUP_TIMING, **overrides})
        asyncio.run(prepare_stack(settings))
        fault_file, attempt_file = workdir / "faults.json", workdir / "attempts.jsonl"
        write_faults(fault_file, faults)
        stack = RetryStack(
            settings=settings,
            backend=backend,
            projector=flaky_process(
                settings, "projector", settings.projector_port, logs, fault_file, attempt_file
            ),
            worker=flaky_process(
                settings, "retry_worker", settings.retry_worker_port, logs, fault_file, attempt_file
            ),
            faults=fault_file,
            attempts=attempt_file,
        )
        try:
            for process in (stack.projector, stack.worker):
                process.launch()
            for process in (stack.projector, stack.worker):
                process.wait(timeout=60)
            yield stack
        finally:
            for process in (stack.projector, stack.worker):
                process.stop()


async def _publish(settings: Settings, topic: str, messages: tuple[Message, ...]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(
                topic,
                message.value,
                key=message.key,
                headers=[(name, value.encode()) for name, value in message.headers.items()],
            )
    finally:
        await producer.stop()


async def _read(settings: Settings, topic: str) -> list[Message]:
    """Everything on `topic` so far, in partition and offset order."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        (description,) = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in description["partitions"]]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[Message] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                found.extend(
                    Message(
                        key=record.key,
                        value=record.value,
                        headers={name: bytes(v).decode() for name, v in record.headers},
                        partition=record.partition,
                        offset=record.offset,
                    )
                    for record in records
                    if record.offset < ends[TopicPartition(topic, record.partition)]
                )
        return sorted(found, key=lambda m: (m.partition, m.offset))
    finally:
        await consumer.stop()
        await admin.close()


def env_for_cli(settings: Settings) -> dict[str, str]:
    """The environment that points `progressctl` at this stack."""
    return {**os.environ, **service_env(settings), "PYTHONPATH": str(REPO_ROOT)}

"""A private broker and database for the projector's end-to-end tests, and what they hold.

Each `ProjectorLab` starts its own Tansu broker and SecantusDB on free ports, so a test may
freeze the database, kill projectors with SIGKILL or leave a consumer group in any state
without touching the session's backend. Events are published straight to Kafka, as the
gateway does (key `tenantId/userId`, the DESIGN headers), to keep thousands of them cheap.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import EmbeddedServer, free_port
from shared.adapters.kafka import event_headers
from shared.adapters.mongo import DEAD_LETTERS, EVENTS, SNAPSHOTS
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain import RecordedEvent, Snapshot, reduce, validate_event
from shared.domain.wire import message_key
from tests.support.backends import Backend, ServerFaults, private_backend
from tests.support.services import (
    PRIVATE_GROUP_TIMING,
    metrics_text,
    service_process,
    settings_for,
)

__all__ = [
    "TENANT",
    "ProjectorLab",
    "learner_events",
    "learner_snapshots",
    "metric",
    "projector_lab",
    "reductions",
    "resent_and_shuffled",
    "totals",
]

TENANT = "demo"
_START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
_NOW = _START + timedelta(days=30)


def _payload(rng: random.Random, kind: str, content_id: str) -> dict[str, Any] | None:
    if kind == "media.progressed":
        return {
            "contentId": content_id,
            "positionSeconds": rng.randint(0, 600),
            "durationSeconds": 600,
            "watchedSeconds": rng.randint(1, 30),
        }
    if kind == "quiz.attempted":
        score = rng.randint(0, 10)
        return {"contentId": content_id, "score": score, "maxScore": 10, "passed": score > 7}
    if kind == "content.progressed":
        return {
            "contentId": content_id,
            "status": rng.choice(["in_progress", "completed"]),
            "score": rng.randint(0, 100),
        }
    if kind == "content.rated":
        return {"contentId": content_id, "rating": rng.choice(["easy", "perfect", "hard"])}
    return None


_KINDS = ["media.progressed"] * 4 + ["quiz.attempted"] * 3 + ["content.progressed"] * 2
_KINDS += ["content.rated"]


def learner_events(
    users: int, per_user: int, seed: int, *, prefix: str = "learner", resets: bool = False
) -> list[RecordedEvent]:
    """`per_user` events for each of `users` users, in the order they happened.

    Mostly media reports (watchedSeconds add up) and quiz attempts (attempts count up), so
    an event applied twice shows in the sums; occurredAt values spread over ten days with
    frequent ties. With `resets`, about one event in a hundred is a `progress.reset`.
    """
    rng = random.Random(seed)
    events: list[RecordedEvent] = []
    for user in range(users):
        user_id = f"{prefix}-{user:04d}"
        for index in range(per_user):
            kind = "progress.reset" if resets and rng.random() < 0.01 else rng.choice(_KINDS)
            occurred = _START + timedelta(minutes=rng.randint(0, 10 * 24 * 60))
            raw: dict[str, Any] = {
                "eventId": f"e-{index:05d}",
                "occurredAt": occurred.isoformat(),
                "clientId": rng.choice(["web", "ios"]),
                "type": kind,
            }
            payload = _payload(rng, kind, f"item-{rng.randint(0, 7)}")
            if payload is not None:
                raw["payload"] = payload
            events.append(
                RecordedEvent(
                    tenant_id=TENANT,
                    user_id=user_id,
                    received_at=_NOW,
                    event=validate_event(raw, now=_NOW),
                )
            )
    events.sort(key=lambda event: event.occurred_at)
    return events


def reductions(events: Sequence[RecordedEvent]) -> dict[str, Snapshot]:
    """The snapshot every user of `events` must end with: `reduce` of their distinct events."""
    by_user: dict[str, list[RecordedEvent]] = {}
    for event in events:
        by_user.setdefault(event.user_id, []).append(event)
    return {user: reduce(log, tenant_id=TENANT, user_id=user) for user, log in by_user.items()}


@cache
def _learner_templates(distinct: int, per_user: int) -> tuple[Snapshot, ...]:
    return tuple(reductions(learner_events(distinct, per_user, seed=7)).values())


def learner_snapshots(
    count: int, *, offset: int = 0, per_user: int = 100, distinct: int = 50
) -> list[Snapshot]:
    """Snapshots of learners `offset` to `offset + count` after `per_user` `learner_events`
    each (about 3 KB stored).

    Each its own objects, as a store read or a reduction leaves them: `distinct` reductions
    (made once) copied under new user ids, since reducing every learner's events would take
    minutes.
    """
    templates = _learner_templates(distinct, per_user)
    return [
        Snapshot.from_storage(
            templates[n % distinct].model_copy(update={"user_id": f"kept-{n:06d}"}).to_storage()
        )
        for n in range(offset, offset + count)
    ]


def resent_and_shuffled(
    events: Sequence[RecordedEvent], share: float, seed: int
) -> list[RecordedEvent]:
    """The events plus a `share` of them sent again, all in random order (offline devices)."""
    rng = random.Random(seed)
    sent = [*events, *rng.sample(list(events), int(len(events) * share))]
    rng.shuffle(sent)
    return sent


async def _send(servers: list[str], messages: Sequence[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        headers = [(name, value.encode()) for name, value in event_headers("lab").items()]
        sends = [
            await producer.send(EVENTS_TOPIC, value, key=key, headers=headers)
            for key, value in messages
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _stable_members(settings: Settings) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([settings.projector_group])
    finally:
        await admin.close()
    (group,) = response.groups
    error_code, _, state, _, _, members = group[:6]
    return len(members) if error_code == 0 and state == "Stable" else None


@dataclass
class ProjectorLab:
    """A private backend, its settings, and the projector processes a test started."""

    backend: Backend
    settings: Settings
    logs: Path
    projectors: list[EmbeddedServer] = field(default_factory=list)

    def start_projectors(self, *names: str, **overrides: Any) -> list[EmbeddedServer]:
        """Start one `python -m services.projector` process per name, each on its own port.

        They are launched together, then awaited (a process listens once it joined the
        consumer group). `overrides` replace settings of these processes only (e.g.
        `projector_batch_max`).
        """
        servers: list[EmbeddedServer] = []
        for name in names:
            port = free_port()
            settings = self.settings.model_copy(update={**overrides, "projector_port": port})
            servers.append(service_process(settings, name, "services.projector", port, self.logs))
        self.projectors.extend(servers)
        for server in servers:
            server.launch()
        for server in servers:
            server.wait(timeout=60)
        return servers

    def start_projector(self, name: str, **overrides: Any) -> EmbeddedServer:
        """Start one projector process (see `start_projectors`)."""
        (server,) = self.start_projectors(name, **overrides)
        return server

    def group_members(self) -> int | None:
        """How many members the projectors' consumer group has, once it is stable (else None)."""
        return asyncio.run(_stable_members(self.settings))

    @property
    def database(self) -> ServerFaults:
        """The private database, to freeze (SIGSTOP, or docker pause on the real backend)."""
        return self.backend.database_faults()

    def publish(self, events: Sequence[RecordedEvent]) -> None:
        """Publish events as the gateway does; returns once the broker acknowledged all."""
        messages = [(message_key(e.tenant_id, e.user_id), e.to_json()) for e in events]
        asyncio.run(_send(self.settings.kafka_servers, messages))

    def publish_raw(self, values: Sequence[bytes], key: bytes = b"demo/poison") -> None:
        """Publish arbitrary bytes on `progress.events` (poison messages)."""
        asyncio.run(_send(self.settings.kafka_servers, [(key, value) for value in values]))

    @contextmanager
    def _db(self) -> Iterator[Any]:
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.settings.mongo_url, serverSelectionTimeoutMS=10_000, tz_aware=True
        )
        try:
            yield client[self.settings.mongo_database]
        finally:
            client.close()

    def snapshots(self) -> dict[str, Snapshot]:
        """Every stored snapshot, by userId."""
        with self._db() as db:
            return {doc["u"]: Snapshot.from_storage(doc["state"]) for doc in db[SNAPSHOTS].find({})}

    def logged(self) -> dict[str, list[RecordedEvent]]:
        """Every user's event log as stored, in seq order (fillers, holding no event, left out)."""
        found: dict[str, list[RecordedEvent]] = {}
        with self._db() as db:
            for doc in db[EVENTS].find({}).sort([("u", 1), ("s", 1)]):
                if "f" not in doc:
                    found.setdefault(doc["u"], []).append(RecordedEvent.from_json(doc["body"]))
        return found

    def log_size(self) -> int:
        """How many events the log holds, all users together (fillers left out)."""
        with self._db() as db:
            return sum("f" not in doc for doc in db[EVENTS].find({}, {"_id": 0, "f": 1}))

    def dead_letters(self) -> list[dict[str, Any]]:
        """The stored dead letters, oldest first."""
        with self._db() as db:
            return list(db[DEAD_LETTERS].find({}).sort("failedAt", 1))

    def caught_up(self, expected: dict[str, Snapshot]) -> dict[str, Snapshot] | None:
        """The snapshots once each user's has counted at least the expected events, else None.

        A probe for `eventually`: it never says whether the snapshots are right, only that
        the projector has nothing left to do for them.
        """
        stored = self.snapshots()
        for user, snapshot in expected.items():
            if user not in stored or stored[user].event_count < snapshot.event_count:
                return None
        return stored


def totals(snapshots: dict[str, Snapshot]) -> tuple[float, int]:
    """All users' watchedSeconds and quiz attempts added up: what a doubled event inflates."""
    watched = 0.0
    attempts = 0
    for snapshot in snapshots.values():
        for item in snapshot.items.values():
            watched += item.media.watched_seconds if item.media else 0
            attempts += item.quiz.attempts if item.quiz else 0
    return watched, attempts


def metric(server: EmbeddedServer, name: str, **labels: str) -> float:
    """The value of one sample on a process's `/metrics` (0 when it is not there yet)."""
    for family in text_string_to_metric_families(metrics_text(server)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@contextmanager
def projector_lab(workdir: Path) -> Iterator[ProjectorLab]:
    """A private broker and database with topics and tenant, and the projectors to come.

    On exit every projector is stopped (SIGCONT first, so a frozen one dies too), then the
    servers.
    """
    with private_backend(workdir) as backend:
        settings = settings_for(
            backend.kafka_bootstrap,
            backend.mongo_url,
            f"projector_{uuid.uuid4().hex[:8]}",
            backend.idempotent_producer,
            mongo_timeout_ms=2000,
        ).model_copy(update=PRIVATE_GROUP_TIMING)
        asyncio.run(prepare_stack(settings))
        lab = ProjectorLab(backend, settings, workdir / "logs")
        try:
            yield lab
        finally:
            for server in lab.projectors:
                server.stop()

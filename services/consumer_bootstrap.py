"""One bootstrap for every consumer process: broker, clients, use case, lifespan, shutdown.

The projector, the retry worker and the insights consumer each state only what is theirs:
their subscribers (topic, group, handler) on a `ConsumerBroker`, and how their use case is
built from a `ConsumerParts` once the clients are open. `consumer_app` does the rest, the
same way for all three: connect (verifying topics, creating indexes), build the use case,
hand it to the subscribers through the broker's context (FastStream's dependency
injection: a handler declares `consumer = Context(CONSUMER)`), start consuming, serve the
ops endpoints, and on shutdown stop the background tasks before the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.change_publishing import KafkaChangeAnnouncer, changes_publisher
from shared.adapters.checkpoint_store import MongoSnapshotCheckpoints
from shared.adapters.clock import SystemClock
from shared.adapters.connections import connections
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_consuming import (
    Consumer,
    ConsumerLoop,
    Outcome,
    loop_options,
    raw_bodies,
)
from shared.adapters.kafka_publishing import KafkaRetryRoutes
from shared.adapters.logs import get_logger
from shared.adapters.mongo import Document
from shared.adapters.ops_http import ReadinessCheck, dependency_checks, ops_router
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.user_data_store import MongoUserDataStore
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.erasure import Erasure
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.ports import SnapshotStore
from shared.service_layer.projection import Projection

__all__ = [
    "CONSUMER",
    "ConsumerBroker",
    "ConsumerParts",
    "ProjectingBroker",
    "ProjectionFactory",
    "ProjectionOverrides",
    "consumer_app",
]

log = get_logger(__name__)

CONSUMER = "consumer"
"""The broker-context key under which a process's subscribers find its use case."""

Handler = Callable[..., Awaitable[None]]
"""A subscriber's handler: the message's body and the message, its use case injected."""

ProjectionFactory = Callable[..., Projection]
"""Builds the projection from keyword parts: events, snapshots, erasure, quotas, checkpoints,
changes, replay_memory."""


@dataclass(frozen=True, slots=True)
class ProjectionOverrides:
    """Test seams of the projecting processes: build the projection differently."""

    projection: ProjectionFactory = Projection


class ConsumerBroker:
    """A consumer process's broker and loop, declared, not connected.

    Subclasses declare their subscribers in `__init__`; the AsyncAPI generator reads the
    broker as is. `stopping` is set when shutdown begins, before the broker stops.
    """

    def __init__(self, settings: Settings, service: str) -> None:
        self.broker: KafkaBroker = kafka_broker(
            settings, client_id=f"progress-{service.replace('_', '-')}", consumer=True
        )
        self.loop = ConsumerLoop.of(service, settings)
        self.stopping = asyncio.Event()
        self._settings = settings

    def subscriber(
        self, topic: str, *, group_id: str, title: str, description: str, **fetching: Any
    ) -> Callable[[Handler], object]:
        """Declare a subscriber that commits only once its use case has decided.

        Every consumer's subscribers read from the earliest offset when their group is new,
        ack by hand (`consume_message` commits or rewinds), keep bodies as bytes, and join
        the group on the configured membership options; `fetching` adds the subscriber's
        own (batching, fetch bounds).
        """
        decorate: Callable[[Handler], object] = self.broker.subscriber(
            topic,
            group_id=group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=raw_bodies,
            title=title,
            description=description,
            **fetching,
            **loop_options(self._settings, self.loop),
        )
        return decorate


class ProjectingBroker(ConsumerBroker):
    """A broker whose consumer projects events: it publishes retries and changes too."""

    def __init__(self, settings: Settings, service: str) -> None:
        super().__init__(settings, service)
        self.routes = KafkaRetryRoutes(self.broker)
        changes_publisher(self.broker)


@dataclass(slots=True)
class ConsumerParts:
    """What a consumer's use case is built from, once its clients are open.

    `background` runs a task for the process's lifetime; it is cancelled on shutdown.
    """

    settings: Settings
    db: AsyncDatabase[Document]
    broker: KafkaBroker
    service: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` until the process stops."""
        self.tasks.append(asyncio.create_task(work, name=name))

    def projection(
        self, make: ProjectionFactory, snapshots: SnapshotStore | None = None
    ) -> Projection:
        """The projection over MongoDB, announcing changes as this service."""
        db, settings = self.db, self.settings
        return make(
            events=MongoEventLog(db, settings.log_hole_bound),
            snapshots=snapshots or MongoSnapshotStore(db),
            erasure=Erasure(
                MongoTombstoneStore(db, settings.erasure_secrets), MongoUserDataStore(db)
            ),
            quotas=settings.quotas,
            checkpoints=MongoSnapshotCheckpoints(db),
            changes=KafkaChangeAnnouncer(self.broker, settings, self.service),
            replay_memory=settings.projector_replay_memory_entries,
        )

    def batch_consumer(self, declared: ProjectingBroker, projection: Projection) -> BatchConsumer:
        """Project batches; route what fails to the retry tiers or the dead letters."""
        router = FailureRouter(declared.routes, MongoDeadLetterStore(self.db), SystemClock())
        return BatchConsumer(projection, router, PROMETHEUS_METRICS)


def consumer_app(
    title: str,
    settings: Settings,
    declared: ConsumerBroker,
    build: Callable[[ConsumerParts], Consumer[Outcome]],
) -> FastAPI:
    """The consumer process's ASGI app; it connects only when the lifespan starts.

    On start: open the clients, `build` the use case, give it to the subscribers, start
    consuming. On shutdown: set `stopping`, cancel the background tasks, then stop the
    broker (held batches are let go uncommitted) and close the database.
    """
    broker, service = declared.broker, declared.loop.service
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connections(settings, broker) as opened:
            checks.update(dependency_checks(broker, opened.db))
            parts = ConsumerParts(settings, opened.db, broker, service)
            try:
                broker.context.set_global(CONSUMER, build(parts))
                await broker.start()
                log.info("consumer_started", service=service)
                yield
            finally:
                declared.stopping.set()
                for task in parts.tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = FastAPI(title=title, lifespan=lifespan)
    app.include_router(ops_router(checks, declared.loop))
    return app

"""The gateway's composition root: every client it uses, built from settings in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from services.gateway.credentials import CachedCredentials
from services.gateway.publishing import EventPublisher
from services.gateway.rate_limit import TenantRateLimiter
from shared.adapters.catalog_store import CourseCatalog
from shared.adapters.event_log import MongoEventLog
from shared.adapters.kafka import kafka_broker
from shared.adapters.message_schema import RecordedEventMessage
from shared.adapters.mongo import Document, ensure_indexes, mongo_client, ping
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tenants import MongoTenantStore
from shared.adapters.topics import EVENTS_TOPIC

__all__ = ["GatewayContext", "build_broker", "gateway_context"]

_PING_TIMEOUT_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """What request handlers use: stores, the publisher, and readiness probes."""

    db: AsyncDatabase[Document]
    broker: KafkaBroker
    publisher: EventPublisher
    credentials: CachedCredentials
    rate_limiter: TenantRateLimiter
    events: MongoEventLog
    snapshots: MongoSnapshotStore
    catalog: CourseCatalog

    async def kafka_ready(self) -> bool:
        """True when the broker answers a metadata request."""
        return await self.broker.ping(_PING_TIMEOUT_SECONDS)

    async def mongo_ready(self) -> bool:
        """True when the database answers a ping."""
        return await ping(self.db)


def build_broker(settings: Settings) -> tuple[KafkaBroker, EventPublisher]:
    """The producer side: a FastStream broker and the documented `progress.events` publisher."""
    broker = kafka_broker(settings, client_id="progress-gateway")
    publisher = broker.publisher(
        EVENTS_TOPIC,
        title="progress.events",
        description="Accepted progress events, keyed tenantId/userId, with server fields.",
        schema=RecordedEventMessage,
    )
    return broker, EventPublisher(publisher, settings.kafka_request_timeout_ms / 1000)


@asynccontextmanager
async def gateway_context(settings: Settings) -> AsyncIterator[GatewayContext]:
    """Connect to MongoDB and Kafka for the app's lifetime; close both on the way out."""
    client = mongo_client(settings)
    db = client[settings.mongo_database]
    broker, publisher = build_broker(settings)
    try:
        await ensure_indexes(db)
        await broker.connect()
        yield GatewayContext(
            db=db,
            broker=broker,
            publisher=publisher,
            credentials=CachedCredentials(MongoTenantStore(db), settings.auth_cache_seconds),
            rate_limiter=TenantRateLimiter(
                settings.rate_limit_events_per_second, settings.rate_limit_burst
            ),
            events=MongoEventLog(db),
            snapshots=MongoSnapshotStore(db),
            catalog=CourseCatalog(db),
        )
    finally:
        await broker.stop()
        await client.close()

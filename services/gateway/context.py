"""The gateway's composition root: every client and use case it needs, built in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from services.gateway.credentials import CachedCredentials
from services.gateway.live_streams import LiveStreams, StreamTiming, sweep_streams
from services.gateway.rate_limit import RateLimits
from services.gateway.tombstone_cache import CachedTombstones
from services.gateway.wait_slots import UserSlots, wait_slots
from services.gateway.xapi_profiles import CachedXapiProfiles
from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.change_following import follow_changes
from shared.adapters.clock import SystemClock
from shared.adapters.connections import connections
from shared.adapters.consistency_wiring import mongo_consistency
from shared.adapters.event_log import MongoEventLog
from shared.adapters.insight_store import mongo_insights
from shared.adapters.issuers import MongoIssuerStore
from shared.adapters.jwks import JwksCache
from shared.adapters.jws_certificates import X5cSignatureVerifier
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_publishing import KafkaEventPublisher, events_publisher
from shared.adapters.merge_store import MongoMergePointers
from shared.adapters.mongo import Document, ping
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tenants import MongoTenantStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.xapi_document_store import profile_documents, state_documents
from shared.adapters.xapi_statement_store import MongoStatementStore
from shared.adapters.xapi_usage_store import MongoUsageStore
from shared.service_layer.catalog import CourseCatalog
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.consistency import (
    ANNOUNCED_POLL_SECONDS,
    ReadYourWrites,
    SnapshotWatcher,
)
from shared.service_layer.ingest import Ingest
from shared.service_layer.insights import Insights
from shared.service_layer.merge import GuestMerge
from shared.service_layer.ports import Clock
from shared.service_layer.reading import ProgressReader
from shared.service_layer.xapi.documents import Documents
from shared.service_layer.xapi.reads import ReadStatements
from shared.service_layer.xapi.statements import StoreStatements

__all__ = ["GatewayContext", "gateway_broker", "gateway_context"]

_PING_TIMEOUT_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """What request handlers use: the use cases, credentials, limits and readiness probes."""

    db: AsyncDatabase[Document]
    broker: KafkaBroker
    ingest: Ingest
    consistency: ReadYourWrites
    merge: GuestMerge
    reader: ProgressReader
    catalog: CourseCatalog
    insights: Insights
    credentials: CachedCredentials
    clock: Clock
    xapi_statements: StoreStatements
    xapi_reads: ReadStatements
    xapi_documents: Documents
    xapi_profiles: CachedXapiProfiles
    rate_limits: RateLimits
    waits: UserSlots
    streams: LiveStreams
    stream_timing: StreamTiming
    max_token_lifetime: int
    max_events_per_request: int

    async def kafka_ready(self) -> bool:
        """True when the broker answers a metadata request."""
        return await self.broker.ping(_PING_TIMEOUT_SECONDS)

    async def mongo_ready(self) -> bool:
        """True when the database answers a ping."""
        return await ping(self.db)


def gateway_broker(settings: Settings) -> tuple[KafkaBroker, KafkaEventPublisher]:
    """The producer side: a FastStream broker and the publisher of accepted events on it.

    `progress.events` is declared on the broker for the AsyncAPI document.
    """
    broker = kafka_broker(settings, client_id="progress-gateway")
    events_publisher(broker)
    return broker, KafkaEventPublisher(broker, settings.kafka_request_timeout_ms / 1000)


@asynccontextmanager
async def gateway_context(settings: Settings) -> AsyncIterator[GatewayContext]:
    """Connect to MongoDB and Kafka for the app's lifetime; close both on the way out."""
    broker, publisher = gateway_broker(settings)
    async with connections(settings, broker) as opened:
        db = opened.db
        snapshots = MongoSnapshotStore(db)
        events = MongoEventLog(db, settings.log_hole_bound)
        courses = MongoCatalogStore(db)
        clock = SystemClock()
        tombstones = CachedTombstones(
            MongoTombstoneStore(db, settings.erasure_secrets),
            settings.auth_cache_seconds,
        )
        watcher = SnapshotWatcher(snapshots, ANNOUNCED_POLL_SECONDS)
        consistency = mongo_consistency(db, settings, watcher, tombstones, clock)
        ingest = Ingest(
            publisher,
            tombstones,
            snapshots,
            settings.quotas,
            consistency,
            courses,
        )
        statements, tenants = MongoStatementStore(db), MongoTenantStore(db)
        usage = MongoUsageStore(db)
        streams = LiveStreams(settings.stream_max_per_user, settings.stream_max_per_process)
        pointers = MongoMergePointers(db)
        following = asyncio.create_task(
            follow_changes(settings, partial(_announced, tombstones, streams, watcher))
        )
        sweeping = asyncio.create_task(
            sweep_streams(
                streams,
                snapshots.positions,
                [tombstones.erased, pointers.merged],
                settings.stream_reread_seconds,
            )
        )
        try:
            yield GatewayContext(
                db=db,
                broker=broker,
                ingest=ingest,
                consistency=consistency,
                merge=GuestMerge(events, snapshots, publisher, pointers),
                reader=ProgressReader(events, snapshots),
                catalog=CourseCatalog(
                    courses, MongoCertificateStore(db), MongoCatalogJobStore(db), clock
                ),
                insights=mongo_insights(db),
                credentials=CachedCredentials(
                    tenants,
                    settings.auth_cache_seconds,
                    issuers=MongoIssuerStore(db),
                    keys=JwksCache.from_settings(settings),
                    clock_skew_seconds=settings.user_token_clock_skew_seconds,
                ),
                clock=clock,
                xapi_statements=StoreStatements(
                    statements, ingest, clock, X5cSignatureVerifier(), usage, settings.xapi_quotas
                ),
                xapi_reads=ReadStatements(statements, clock, settings.xapi_quotas),
                xapi_documents=Documents(
                    state_documents(db),
                    profile_documents(db),
                    clock,
                    ingest.erased,
                    usage,
                    settings.xapi_quotas,
                ),
                xapi_profiles=CachedXapiProfiles(tenants, settings.auth_cache_seconds),
                rate_limits=RateLimits(settings),
                waits=wait_slots(settings.wait_max_per_user, settings.wait_max_per_process),
                streams=streams,
                stream_timing=StreamTiming.from_settings(settings),
                max_token_lifetime=settings.user_token_max_lifetime_seconds,
                max_events_per_request=settings.max_events_per_request,
            )
        finally:
            for task in (following, sweeping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _announced(
    tombstones: CachedTombstones,
    streams: LiveStreams,
    watcher: SnapshotWatcher,
    change: SnapshotChange,
) -> None:
    """Wake the user's streams and waiting reads; an erase's tombstone is looked up afresh."""
    if change.cursor == 0:
        tombstones.forget(change.key)
    streams.wake(change.key)
    watcher.notice(change.key, change.cursor)

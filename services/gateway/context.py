"""The gateway's composition root: every client and use case it needs, built in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
from shared.adapters.causal_reads import causal_reads
from shared.adapters.change_following import follow_changes
from shared.adapters.clock import SystemClock
from shared.adapters.connections import connections
from shared.adapters.consistency_wiring import configured_consistency
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.insight_store import MongoInsightStore
from shared.adapters.issuers import MongoIssuerStore
from shared.adapters.jwks import JwksCache
from shared.adapters.jws_certificates import X5cSignatureVerifier
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_publishing import KafkaEventPublisher, events_publisher
from shared.adapters.merge_store import MongoMergePointers
from shared.adapters.mongo import Document, ping
from shared.adapters.ops_http import ReadinessCheck
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tenants import MongoTenantStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.written_events_store import MongoWrittenEvents
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
from shared.service_layer.ports import (
    CatalogJobStore,
    CatalogStore,
    CertificateStore,
    Clock,
    DeadLetterStore,
    EventLog,
    EventPublisher,
    InsightStore,
    MergePointers,
    SnapshotStore,
    TenantStore,
    TombstoneStore,
    WrittenEvents,
)
from shared.service_layer.reading import ProgressReader
from shared.service_layer.xapi.documents import Documents
from shared.service_layer.xapi.ports import DocumentStore, StatementStore, UsageStore
from shared.service_layer.xapi.reads import ReadStatements
from shared.service_layer.xapi.statements import StoreStatements

__all__ = [
    "GatewayContext",
    "GatewayPorts",
    "build_context",
    "gateway_broker",
    "gateway_context",
    "mongo_ports",
]

_PING_TIMEOUT_SECONDS = 1.5

CausalReads = Callable[[], AbstractAsyncContextManager[None]]
"""Opens one causally consistent read scope (`shared.adapters.causal_reads`)."""


@dataclass(frozen=True, slots=True)
class GatewayPorts:
    """What the gateway's use cases run over: stores, publisher, clock and probes.

    `gateway_context` fills it with MongoDB and Kafka; tests fill it with the fakes of
    `tests.fakes`, so routes run in process, over an ASGI transport.
    """

    publisher: EventPublisher
    events: EventLog
    snapshots: SnapshotStore
    tombstones: TombstoneStore
    written: WrittenEvents
    letters: DeadLetterStore
    courses: CatalogStore
    certificates: CertificateStore
    catalog_jobs: CatalogJobStore
    insights: InsightStore
    pointers: MergePointers
    statements: StatementStore
    usage: UsageStore
    state_documents: DocumentStore
    profile_documents: DocumentStore
    tenants: TenantStore
    issuers: MongoIssuerStore
    clock: Clock
    kafka_ready: ReadinessCheck
    mongo_ready: ReadinessCheck
    causal_reads: CausalReads


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """What request handlers use: the use cases, credentials, limits and readiness probes."""

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
    tombstones: CachedTombstones
    watcher: SnapshotWatcher
    kafka_ready: ReadinessCheck
    mongo_ready: ReadinessCheck
    causal_reads: CausalReads


def gateway_broker(settings: Settings) -> tuple[KafkaBroker, KafkaEventPublisher]:
    """The producer side: a FastStream broker and the publisher of accepted events on it.

    `progress.events` is declared on the broker for the AsyncAPI document.
    """
    broker = kafka_broker(settings, client_id="progress-gateway")
    events_publisher(broker)
    return broker, KafkaEventPublisher(broker, settings.kafka_request_timeout_ms / 1000)


def build_context(settings: Settings, ports: GatewayPorts) -> GatewayContext:
    """Every use case of the gateway over `ports`, bounded by `settings`; no I/O."""
    clock, snapshots, events = ports.clock, ports.snapshots, ports.events
    tombstones = CachedTombstones(ports.tombstones, settings.auth_cache_seconds)
    watcher = SnapshotWatcher(snapshots, ANNOUNCED_POLL_SECONDS)
    consistency = configured_consistency(
        settings,
        events=events,
        watcher=watcher,
        written=ports.written,
        letters=ports.letters,
        tombstones=tombstones,
        clock=clock,
    )
    ingest = Ingest(
        ports.publisher,
        tombstones,
        snapshots,
        settings.quotas,
        consistency=consistency,
        courses=ports.courses,
    )
    return GatewayContext(
        ingest=ingest,
        consistency=consistency,
        merge=GuestMerge(events, snapshots, ports.publisher, ports.pointers),
        reader=ProgressReader(events, snapshots),
        catalog=CourseCatalog(ports.courses, ports.certificates, ports.catalog_jobs, clock),
        insights=Insights(
            snapshots, ports.courses, ports.certificates, ports.insights, events, clock
        ),
        credentials=CachedCredentials(
            ports.tenants,
            settings.auth_cache_seconds,
            issuers=ports.issuers,
            keys=JwksCache.from_settings(settings),
            clock_skew_seconds=settings.user_token_clock_skew_seconds,
        ),
        clock=clock,
        xapi_statements=StoreStatements(
            ports.statements,
            ingest,
            clock,
            X5cSignatureVerifier(),
            ports.usage,
            settings.xapi_quotas,
        ),
        xapi_reads=ReadStatements(ports.statements, clock, settings.xapi_quotas),
        xapi_documents=Documents(
            ports.state_documents,
            ports.profile_documents,
            clock,
            ingest.erased,
            ports.usage,
            settings.xapi_quotas,
        ),
        xapi_profiles=CachedXapiProfiles(ports.tenants, settings.auth_cache_seconds),
        rate_limits=RateLimits(settings),
        waits=wait_slots(settings.wait_max_per_user, settings.wait_max_per_process),
        streams=LiveStreams(settings.stream_max_per_user, settings.stream_max_per_process),
        stream_timing=StreamTiming.from_settings(settings),
        max_token_lifetime=settings.user_token_max_lifetime_seconds,
        max_events_per_request=settings.max_events_per_request,
        tombstones=tombstones,
        watcher=watcher,
        kafka_ready=ports.kafka_ready,
        mongo_ready=ports.mongo_ready,
        causal_reads=ports.causal_reads,
    )


def mongo_ports(
    settings: Settings, db: AsyncDatabase[Document], broker: KafkaBroker, publisher: EventPublisher
) -> GatewayPorts:
    """The gateway's ports over MongoDB and Kafka."""

    async def kafka_ready() -> bool:
        return await broker.ping(_PING_TIMEOUT_SECONDS)

    async def mongo_ready() -> bool:
        return await ping(db)

    return GatewayPorts(
        publisher=publisher,
        events=MongoEventLog(db, settings.log_hole_bound),
        snapshots=MongoSnapshotStore(db),
        tombstones=MongoTombstoneStore(db, settings.erasure_secrets),
        written=MongoWrittenEvents(db),
        letters=MongoDeadLetterStore(db),
        courses=MongoCatalogStore(db),
        certificates=MongoCertificateStore(db),
        catalog_jobs=MongoCatalogJobStore(db),
        insights=MongoInsightStore(db),
        pointers=MongoMergePointers(db),
        statements=MongoStatementStore(db),
        usage=MongoUsageStore(db),
        state_documents=state_documents(db),
        profile_documents=profile_documents(db),
        tenants=MongoTenantStore(db),
        issuers=MongoIssuerStore(db),
        clock=SystemClock(),
        kafka_ready=kafka_ready,
        mongo_ready=mongo_ready,
        causal_reads=partial(causal_reads, db.client),
    )


@asynccontextmanager
async def gateway_context(settings: Settings) -> AsyncIterator[GatewayContext]:
    """Connect to MongoDB and Kafka for the app's lifetime; close both on the way out.

    Beside the requests, it follows `progress.changes` (waking streams and waiting reads)
    and sweeps the live streams for announcements that were lost.
    """
    broker, publisher = gateway_broker(settings)
    async with connections(settings, broker) as opened:
        ports = mongo_ports(settings, opened.db, broker, publisher)
        context = build_context(settings, ports)
        following = asyncio.create_task(
            follow_changes(
                settings, partial(_announced, context.tombstones, context.streams, context.watcher)
            )
        )
        sweeping = asyncio.create_task(
            sweep_streams(
                context.streams,
                ports.snapshots.positions,
                [context.tombstones.erased, MongoMergePointers(opened.db).merged],
                settings.stream_reread_seconds,
            )
        )
        try:
            yield context
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

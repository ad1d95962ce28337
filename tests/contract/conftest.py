"""Every store's contract, held against the real server and the in-memory fake alike.

The `memory` half is a unit test (`make unit` runs it); the `mongodb` half crosses the real
embedded database, each in a database of its own that is dropped afterwards, through
`ShardKeyGuard`, which fails any write a sharded cluster could not route.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.checkpoint_store import MongoSnapshotCheckpoints
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.import_checkpoints import MongoImportCheckpoints
from shared.adapters.insight_store import MongoInsightStore
from shared.adapters.merge_store import MongoMergePointers
from shared.adapters.mongo import Document, ensure_indexes, mongo_client
from shared.adapters.parked_store import MongoParkedMessages
from shared.adapters.rebuild_checkpoints import MongoRebuildCheckpoints
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tenants import MongoTenantStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.user_data_store import MongoUserDataStore
from shared.adapters.written_events_store import MongoWrittenEvents
from shared.adapters.xapi_document_store import profile_documents, state_documents
from shared.adapters.xapi_statement_store import MongoStatementStore
from shared.adapters.xapi_usage_store import MongoUsageStore
from shared.service_layer.ports import (
    CatalogJobStore,
    CatalogStore,
    CertificateStore,
    DeadLetterStore,
    EventLog,
    ImportCheckpoints,
    InsightStore,
    MergePointers,
    ParkedMessages,
    RebuildCheckpoints,
    SnapshotCheckpoints,
    SnapshotStore,
    TenantStore,
    TombstoneLedger,
    UserDataStore,
    WrittenEvents,
)
from shared.service_layer.xapi.ports import DocumentStore, StatementStore, UsageStore
from tests.fakes import (
    InMemoryCatalogJobStore,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemoryDeadLetterStore,
    InMemoryDocumentStore,
    InMemoryEventLog,
    InMemoryImportCheckpoints,
    InMemoryInsightStore,
    InMemoryMergePointers,
    InMemoryParkedMessages,
    InMemoryRebuildCheckpoints,
    InMemorySnapshotCheckpoints,
    InMemorySnapshotStore,
    InMemoryStatementStore,
    InMemoryTenantStore,
    InMemoryTombstoneStore,
    InMemoryUsageStore,
    InMemoryUserDataStore,
    InMemoryWrittenEvents,
)
from tests.support.shard_keys import ShardKeyGuard


@dataclass
class Stores:
    events: EventLog
    snapshots: SnapshotStore
    letters: DeadLetterStore
    courses: CatalogStore
    certificates: CertificateStore
    user_data: UserDataStore
    checkpoints: RebuildCheckpoints
    tombstones: TombstoneLedger
    snapshot_checkpoints: SnapshotCheckpoints
    written: WrittenEvents
    merges: MergePointers
    parked: ParkedMessages
    statements: StatementStore
    state: DocumentStore
    profiles: DocumentStore
    usage: UsageStore
    catalog_jobs: CatalogJobStore
    insights: InsightStore
    tenants: TenantStore
    imports: ImportCheckpoints


def _in_memory() -> Stores:
    events, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    letters, certificates = InMemoryDeadLetterStore(), InMemoryCertificateStore()
    checkpoints = InMemoryRebuildCheckpoints()
    kept = InMemorySnapshotCheckpoints()
    written = InMemoryWrittenEvents()
    merges = InMemoryMergePointers()
    parked = InMemoryParkedMessages()
    statements, state = InMemoryStatementStore(), InMemoryDocumentStore()
    profiles, usage = InMemoryDocumentStore(), InMemoryUsageStore()
    catalog_jobs = InMemoryCatalogJobStore()
    insights = InMemoryInsightStore()
    return Stores(
        events=events,
        snapshots=snapshots,
        letters=letters,
        courses=InMemoryCatalogStore(),
        certificates=certificates,
        user_data=InMemoryUserDataStore(
            events,
            snapshots,
            letters,
            certificates,
            checkpoints,
            kept,
            written,
            merges,
            parked,
            statements,
            state,
            profiles,
            usage,
            catalog_jobs,
            insights,
        ),
        checkpoints=checkpoints,
        tombstones=InMemoryTombstoneStore(),
        snapshot_checkpoints=kept,
        written=written,
        merges=merges,
        parked=parked,
        statements=statements,
        state=state,
        profiles=profiles,
        usage=usage,
        catalog_jobs=catalog_jobs,
        insights=insights,
        tenants=InMemoryTenantStore(),
        imports=InMemoryImportCheckpoints(),
    )


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("mongodb", marks=pytest.mark.integration),
    ]
)
def backend_settings(request: pytest.FixtureRequest) -> Settings | None:
    """None for the fakes; the session's settings (starting the servers) for MongoDB."""
    if request.param == "memory":
        return None
    settings: Settings = request.getfixturevalue("settings")
    return settings


@pytest.fixture
async def stores(backend_settings: Settings | None) -> AsyncIterator[Stores]:
    if backend_settings is None:
        yield _in_memory()
        return
    client = mongo_client(backend_settings)
    # Every write goes through the shard-key guard: a sharded cluster could route it.
    db = cast(AsyncDatabase[Document], ShardKeyGuard(client[f"contract_{uuid.uuid4().hex[:8]}"]))
    await ensure_indexes(db)
    try:
        yield Stores(
            events=MongoEventLog(db),
            snapshots=MongoSnapshotStore(db),
            letters=MongoDeadLetterStore(db),
            courses=MongoCatalogStore(db),
            certificates=MongoCertificateStore(db),
            user_data=MongoUserDataStore(db),
            checkpoints=MongoRebuildCheckpoints(db),
            tombstones=MongoTombstoneStore(db, [b"contract-test-secret-0123456789abcdef"]),
            snapshot_checkpoints=MongoSnapshotCheckpoints(db),
            written=MongoWrittenEvents(db),
            merges=MongoMergePointers(db),
            parked=MongoParkedMessages(db),
            statements=MongoStatementStore(db),
            state=state_documents(db),
            profiles=profile_documents(db),
            usage=MongoUsageStore(db),
            catalog_jobs=MongoCatalogJobStore(db),
            insights=MongoInsightStore(db),
            tenants=MongoTenantStore(db),
            imports=MongoImportCheckpoints(db),
        )
    finally:
        await client.drop_database(db.name)
        await client.close()

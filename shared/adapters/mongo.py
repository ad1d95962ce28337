"""MongoDB connection, collection names, indexes and driver-error translation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    WTimeoutError,
)

from shared.adapters.settings import Settings
from shared.service_layer.errors import StoreRejected, StoreTimeout, StoreUnavailable

__all__ = [
    "AUDIT",
    "CATALOG",
    "CATALOG_JOBS",
    "CERTIFICATES",
    "CHECKPOINTS",
    "DEAD_LETTERS",
    "DUPLICATE_KEY",
    "EVENTS",
    "IMPORT_RUNS",
    "INSIGHT_CONTRIBUTIONS",
    "INSIGHT_TOTALS",
    "ISSUERS",
    "JOURNAL",
    "LOG_HEADS",
    "MERGES",
    "PARKED",
    "REBUILD_RUNS",
    "SHARD_KEYS",
    "SNAPSHOTS",
    "TENANTS",
    "TOMBSTONES",
    "WRITES",
    "XAPI_ATTACHMENTS",
    "XAPI_PROFILES",
    "XAPI_STATE",
    "XAPI_STATEMENTS",
    "XAPI_USAGE",
    "Document",
    "driver_errors",
    "ensure_indexes",
    "journal_flush",
    "mongo_client",
    "ping",
    "refused_entries",
    "unjournaled",
    "user_key",
]

EVENTS = "events"
LOG_HEADS = "log_heads"
SNAPSHOTS = "snapshots"
DEAD_LETTERS = "dead_letters"
TENANTS = "tenants"
ISSUERS = "trusted_issuers"
CATALOG = "catalog"
CATALOG_JOBS = "catalog_jobs"
CERTIFICATES = "certificates"
AUDIT = "audit"
REBUILD_RUNS = "rebuild_runs"
TOMBSTONES = "tombstones"
CHECKPOINTS = "snapshot_checkpoints"
WRITES = "consistency_writes"
MERGES = "merges"
IMPORT_RUNS = "import_runs"
PARKED = "parked_messages"
XAPI_STATEMENTS = "xapi_statements"
XAPI_ATTACHMENTS = "xapi_attachments"
XAPI_STATE = "xapi_state"
XAPI_PROFILES = "xapi_profiles"
XAPI_USAGE = "xapi_usage"
INSIGHT_CONTRIBUTIONS = "insight_contributions"
INSIGHT_TOTALS = "insight_totals"
JOURNAL = "journal_flushes"

SHARD_KEYS: dict[str, tuple[str, ...]] = {
    EVENTS: ("t", "u"),
    LOG_HEADS: ("t", "u"),
    SNAPSHOTS: ("t", "u"),
    CHECKPOINTS: ("t", "u"),
    CERTIFICATES: ("t", "u"),
    INSIGHT_CONTRIBUTIONS: ("t", "u"),
    XAPI_STATEMENTS: ("_id",),
    XAPI_ATTACHMENTS: ("_id",),
    XAPI_STATE: ("_id",),
    XAPI_PROFILES: ("_id",),
    XAPI_USAGE: ("_id",),
    WRITES: ("_id",),
}
"""The shard key of each collection that grows with users (docs/sharding.md says why each).

Per-user collections are ranged on (tenant, user), so one user's log, snapshot and
checkpoints live on one shard and a user's reads are one targeted query; collections only
ever written by `_id` are hashed on it. Every single-document write and upsert names the
whole key in its filter (a sharded cluster cannot route one otherwise); the contract suite
runs every store through a recording fake that refuses any that does not. Collections not
listed stay unsharded: they grow with tenants and operator actions, not with users.
"""

DUPLICATE_KEY = 11000
"""The server's error code for a write that breaks a unique index."""

Document = dict[str, Any]

# Printable IDs never contain this character, so joined keys are unambiguous.
_KEY_SEPARATOR = "\x1f"

# Server errors that mean "not now", not "never": shutdown, not primary, interrupted.
_TRANSIENT_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})


def user_key(*parts: str) -> str:
    """The `_id` for a document that belongs to one (tenant, user[, eventId])."""
    return _KEY_SEPARATOR.join(parts)


def mongo_client(settings: Settings) -> AsyncMongoClient[Document]:
    """A client whose every call gives up within the configured timeout (no hung requests).

    Consistency is set here, not left to server or URL defaults: every write waits for a
    majority of the replica set (`w: majority`, so an acknowledged write survives a
    failover), every read sees only majority-committed data and goes to the primary. A read
    after an acknowledged write therefore sees it (read-your-writes for `waitFor`, pages and
    streams), on one server or a replica set; `Settings` refuses at start a URL whose
    `readPreference` would send reads elsewhere. Every write also waits for the server's
    journal (`j: true`): the projector commits its offsets once MongoDB acknowledged, and
    without it the embedded SecantusDB lost its last acknowledged batch at a kill -9 (4,900
    of 5,000 inserts came back).
    """
    timeout = settings.mongo_timeout_ms
    return AsyncMongoClient(
        settings.mongo_url,
        journal=True,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=timeout,
        appname="progress-sync",
        w="majority",
        readConcernLevel="majority",
        readPreference="primary",
    )


def unjournaled(db: AsyncDatabase[Document], name: str) -> AsyncCollection[Document]:
    """The collection with writes that do not wait for the journal.

    For a bulk of single-document updates followed by `journal_flush`: SecantusDB flushes
    its journal once per updated document of a journaled bulk (a 300-upsert bulk cost
    0.3-0.4 ms more per document), and one flush after the bulk makes all of it as durable.
    And for a write whose loss at a crash costs nothing, such as a hint found again from
    durable data.
    """
    return db.get_collection(name, write_concern=WriteConcern(w="majority", j=False))


async def journal_flush(db: AsyncDatabase[Document]) -> None:
    """Make every write acknowledged before it durable, with one journaled write.

    The journal is written in order: once it holds this write, it holds every write the
    server acknowledged before, journaled or not (on a replica set, `w: majority` writes are
    journaled on a majority anyway). Nothing is lost to a kill -9 of the database after it
    returns; `tests/integration/test_journal_flush.py` kills one to show it.
    """
    async with driver_errors():
        await db[JOURNAL].update_one({"_id": "flush"}, {"$inc": {"n": 1}}, upsert=True)


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    """Create the indexes the services rely on; idempotent, safe from every process at start."""
    async with driver_errors():
        await db[EVENTS].create_indexes(
            [IndexModel([("t", ASCENDING), ("u", ASCENDING), ("s", ASCENDING)], unique=True)]
        )
        await db[SNAPSHOTS].create_indexes([IndexModel([("t", ASCENDING), ("u", ASCENDING)])])
        await db[TENANTS].create_indexes([IndexModel([("apiKeys.hash", ASCENDING)])])
        await db[ISSUERS].create_indexes(
            [IndexModel([("iss", ASCENDING)]), IndexModel([("tenant", ASCENDING)])]
        )
        await db[DEAD_LETTERS].create_indexes(
            [
                IndexModel([("tenant", ASCENDING), ("failedAt", ASCENDING)]),
                IndexModel([("tenant", ASCENDING), ("user", ASCENDING), ("eventId", ASCENDING)]),
            ]
        )
        await db[CATALOG].create_indexes(
            [
                IndexModel([("t", ASCENDING), ("c", ASCENDING)]),
                IndexModel([("t", ASCENDING), ("items", ASCENDING)]),
            ]
        )
        await db[CATALOG_JOBS].create_indexes(
            [
                IndexModel([("state", ASCENDING), ("queuedAt", ASCENDING)]),
                IndexModel([("t", ASCENDING), ("c", ASCENDING)]),
                IndexModel([("queuedAt", DESCENDING)]),
            ]
        )
        await db[CERTIFICATES].create_indexes([IndexModel([("t", ASCENDING), ("u", ASCENDING)])])
        await db[WRITES].create_indexes(
            [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0)]
        )
        await db[CHECKPOINTS].create_indexes(
            [IndexModel([("t", ASCENDING), ("u", ASCENDING), ("s", ASCENDING)])]
        )
        await db[PARKED].create_indexes(
            [
                IndexModel([("parkedAt", ASCENDING), ("n", ASCENDING)]),
                IndexModel([("tenant", ASCENDING), ("user", ASCENDING)]),
            ]
        )
        await db[INSIGHT_CONTRIBUTIONS].create_indexes(
            [IndexModel([("t", ASCENDING), ("u", ASCENDING)])]
        )
        await _xapi_indexes(db)


async def _xapi_indexes(db: AsyncDatabase[Document]) -> None:
    """Statements by stored time and by each filter key; attachments and State by owner."""
    by_time = [("t", ASCENDING), ("s", DESCENDING), ("i", DESCENDING)]
    await db[XAPI_STATEMENTS].create_indexes(
        [
            IndexModel(by_time),
            IndexModel([("t", ASCENDING), ("u", ASCENDING)]),
            *(
                IndexModel([("t", ASCENDING), (f"k.{key}", ASCENDING), ("s", DESCENDING)])
                for key in ("agents", "relatedAgents", "activities", "relatedActivities", "verb")
            ),
            IndexModel([("t", ASCENDING), ("k.registration", ASCENDING), ("s", DESCENDING)]),
        ]
    )
    await db[XAPI_ATTACHMENTS].create_indexes(
        [
            IndexModel([("t", ASCENDING), ("h", ASCENDING)]),
            IndexModel([("t", ASCENDING), ("u", ASCENDING)]),
        ]
    )
    for documents in (XAPI_STATE, XAPI_PROFILES):
        await db[documents].create_indexes(
            [
                IndexModel(
                    [("t", ASCENDING), ("a", ASCENDING), ("g", ASCENDING), ("r", ASCENDING)]
                ),
                IndexModel([("t", ASCENDING), ("u", ASCENDING)]),
            ]
        )


async def ping(db: AsyncDatabase[Document]) -> bool:
    """True when the database answers a ping within the client's timeout."""
    try:
        await db.command("ping")
    except Exception:  # readiness must report, never raise
        return False
    return True


def is_transient(error: OperationFailure) -> bool:
    """True when the server refused for a reason that passes (shutdown, failover)."""
    return error.code in _TRANSIENT_CODES or error.has_error_label("RetryableWriteError")


def refused_entries(error: BulkWriteError) -> dict[int, dict[str, Any]]:
    """The write errors of a bulk write by the index of the operation they refused."""
    return {item["index"]: item for item in error.details.get("writeErrors", [])}


@asynccontextmanager
async def driver_errors() -> AsyncIterator[None]:
    """The one place PyMongo's errors become the project's own.

    "Cannot reach / too slow / not now" becomes `StoreUnavailable` (an outage: retry later);
    any other refusal by the server becomes `StoreRejected` (this request will not pass).
    Callers that expect a refusal (a duplicate key) catch it inside the block.
    """
    try:
        yield
    except (NetworkTimeout, ExecutionTimeout, WTimeoutError) as error:
        raise StoreTimeout(str(error)) from error
    except ConnectionFailure as error:
        raise StoreUnavailable(str(error)) from error
    except OperationFailure as error:
        if is_transient(error):
            raise StoreUnavailable(str(error)) from error
        raise StoreRejected(str(error)) from error

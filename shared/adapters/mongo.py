"""MongoDB connection, collection names, indexes and driver-error translation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
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
    "CERTIFICATES",
    "CHECKPOINTS",
    "DEAD_LETTERS",
    "DUPLICATE_KEY",
    "EVENTS",
    "IMPORT_RUNS",
    "INSIGHT_CONTRIBUTIONS",
    "INSIGHT_TOTALS",
    "ISSUERS",
    "MERGES",
    "PARKED",
    "REBUILD_RUNS",
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
    "mongo_client",
    "ping",
    "refused_entries",
    "user_key",
]

EVENTS = "events"
SNAPSHOTS = "snapshots"
DEAD_LETTERS = "dead_letters"
TENANTS = "tenants"
ISSUERS = "trusted_issuers"
CATALOG = "catalog"
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
    """A client whose every call gives up within the configured timeout (no hung requests)."""
    timeout = settings.mongo_timeout_ms
    return AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=timeout,
        appname="progress-sync",
    )


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

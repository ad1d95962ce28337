"""Snapshots acknowledged by `save_many` survive a kill -9 of the database.

The bulk of snapshot updates does not wait for the journal per document (SecantusDB
flushed it once per updated document); one journaled write after it makes the whole bulk
durable. Without that flush, 246 of 300 unjournaled updates came back after a kill -9.
"""

from __future__ import annotations

import signal
from pathlib import Path

from pymongo import AsyncMongoClient

from shared.adapters.embedded import EmbeddedServer, database_server, free_port
from shared.adapters.mongo import Document
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import reduce
from shared.service_layer.stored_snapshots import SnapshotUpdate

_USERS = 300


def _database(storage: Path) -> EmbeddedServer:
    server = database_server("127.0.0.1", free_port(), storage / "mongo", storage)
    server.start()
    return server


def _client(server: EmbeddedServer) -> AsyncMongoClient[Document]:
    url = f"mongodb://127.0.0.1:{server.port}/?directConnection=true"
    return AsyncMongoClient(url, w="majority", journal=True)


async def test_every_snapshot_a_bulk_acknowledged_is_there_after_the_database_is_killed(
    tmp_path: Path,
) -> None:
    keys = [("demo", f"u{n}") for n in range(_USERS)]
    server = _database(tmp_path)
    try:
        client = _client(server)
        updates = [
            SnapshotUpdate(key, reduce([], tenant_id=key[0], user_id=key[1]), 1, 0) for key in keys
        ]
        assert await MongoSnapshotStore(client["progress"]).save_many(updates) == set()
        server.signal(signal.SIGKILL)
        assert server.process is not None
        server.process.wait()
        await client.close()
    finally:
        server.stop()
    restarted = _database(tmp_path)
    try:
        client = _client(restarted)
        stored = await MongoSnapshotStore(client["progress"]).load_many(keys)
        await client.close()
    finally:
        restarted.stop()
    assert len(stored) == _USERS

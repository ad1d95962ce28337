"""A client killed inside a transaction does not hold the database for anyone else.

A consumer killed with -9 inside a transaction never aborts it. SecantusDB reaped such
transactions only when another transaction statement arrived, so a plain write to a
document the dead transaction had written waited with no end. The embedded database now
aborts a transaction idle past its lifetime on a clock (`shared/adapters/database_daemon.py`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from shared.adapters.embedded import database_server, free_port

_LIFETIME_SECONDS = 1.0

_DIE_INSIDE_A_TRANSACTION = f"""
import os, signal, sys
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
with client.start_session() as session:
    session.start_transaction()
    client.t.docs.update_one({{"_id": "x"}}, {{"$inc": {{"n": 1}}}}, session=session)
    os.kill(os.getpid(), signal.{signal.SIGKILL.name})
"""


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    server = database_server(
        "127.0.0.1",
        free_port(),
        tmp_path / "mongo",
        tmp_path,
        transaction_lifetime_seconds=_LIFETIME_SECONDS,
    )
    server.start()
    try:
        yield f"mongodb://127.0.0.1:{server.port}/?directConnection=true"
    finally:
        server.stop()


def test_a_write_to_a_document_held_by_a_killed_clients_transaction_goes_through(
    database_url: str,
) -> None:
    with MongoClient(database_url, timeoutMS=15_000) as client:
        client.t.docs.insert_one({"_id": "x", "n": 0})
        died = subprocess.run(
            [sys.executable, "-c", _DIE_INSIDE_A_TRANSACTION, database_url],
            env={**os.environ},
            check=False,
        )
        assert died.returncode == -signal.SIGKILL
        client.t.docs.update_one({"_id": "x"}, {"$inc": {"n": 10}})
        assert client.t.docs.find_one({"_id": "x"}) == {"_id": "x", "n": 10}

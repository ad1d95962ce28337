"""`progressctl erase` and `erasure rekey` on the real database (a fresh one per test).

DESIGN Wave 3 "Erasure": the second sweep removes what a gateway stored inside its tombstone
cache window and is recorded, so re-running a crashed erase resumes it; previous erasure
secrets still match tombstones, and a rekey rewrites them under the current secret without
un-erasing anyone; the public default secret is refused outside development.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner, Result

from services.progressctl.cli import app
from shared.adapters.mongo import TOMBSTONES, XAPI_STATEMENTS, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.xapi_statement_store import MongoStatementStore
from shared.domain.tombstones import tombstone_id
from shared.service_layer.xapi.ports import StatementRecord
from tests.e2e.xapi_support import statement_for

pytestmark = pytest.mark.integration

OLD, NEW = "old-erasure-secret-0123456789abcdef", "new-erasure-secret-0123456789abcdef"


class Erasures:
    """`progressctl` on one database of the session's MongoDB, and that database's contents."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runner = CliRunner()

    def __call__(self, *args: str, **env: str) -> Result:
        environment = {
            "PROGRESS_MONGO_URL": self.settings.mongo_url,
            "PROGRESS_MONGO_DATABASE": self.settings.mongo_database,
            "PROGRESS_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "PROGRESS_KAFKA_IDEMPOTENT": "false",  # Tansu refuses InitProducerId
            "PROGRESS_ENVIRONMENT": "development",
            "PROGRESS_ERASURE_SECRET": OLD,
            **{f"PROGRESS_{name.upper()}": value for name, value in env.items()},
        }
        return self.runner.invoke(app, list(args), env=environment)

    def erase(self, user: str, **env: str) -> Result:
        return self("erase", "--tenant", "demo", "--user", user, "--yes", "--json", **env)

    def tombstones(self) -> list[dict[str, Any]]:
        with MongoClient(self.settings.mongo_url, tz_aware=True) as client:
            return list(client[self.settings.mongo_database][TOMBSTONES].find())

    def statements_of(self, user: str) -> int:
        with MongoClient(self.settings.mongo_url) as client:
            collection = client[self.settings.mongo_database][XAPI_STATEMENTS]
            return collection.count_documents({"t": "demo", "u": user})

    def store_statement(self, user: str) -> None:
        """A statement stored as a gateway whose tombstone cache lags the erasure stores it."""

        async def insert() -> None:
            client = mongo_client(self.settings)
            try:
                store = MongoStatementStore(client[self.settings.mongo_database])
                record = StatementRecord(statement_for(user), datetime.now(UTC), user)
                await store.insert("demo", [record])
            finally:
                await client.close()

        asyncio.run(insert())

    def erased(self, user: str, *secrets: str) -> bool:
        async def lookup() -> bool:
            client = mongo_client(self.settings)
            try:
                store = MongoTombstoneStore(
                    client[self.settings.mongo_database], [s.encode() for s in secrets]
                )
                return bool(await store.erased([("demo", user)]))
            finally:
                await client.close()

        return asyncio.run(lookup())


@pytest.fixture
def cli(settings: Settings) -> Iterator[Erasures]:
    scoped = settings.model_copy(update={"mongo_database": f"erasure_{uuid.uuid4().hex[:8]}"})
    yield Erasures(scoped)
    with MongoClient(settings.mongo_url) as client:
        client.drop_database(scoped.mongo_database)


def test_the_second_sweep_removes_a_statement_stored_inside_the_cache_window(
    cli: Erasures,
) -> None:
    cli.store_statement("ana")
    results: list[Result] = []
    eraser = threading.Thread(
        target=lambda: results.append(
            cli.erase("ana", auth_cache_seconds="1.5", erasure_sweep_margin_seconds="0")
        )
    )
    started = time.monotonic()
    eraser.start()
    while not cli.tombstones() or cli.statements_of("ana"):  # the first sweep is done
        assert eraser.is_alive() or cli.tombstones(), results[0].output if results else ""
        assert time.monotonic() - started < 30, "the first sweep never finished"
        time.sleep(0.02)
    cli.store_statement("ana")
    eraser.join(timeout=30)
    assert results[0].exit_code == 0, results[0].output
    assert time.monotonic() - started >= 1.5
    assert cli.statements_of("ana") == 0
    assert '"xapi_statements": 2' in results[0].stdout
    assert "swept" in cli.tombstones()[0]


def test_a_crashed_erase_run_again_resumes_its_second_sweep(cli: Erasures) -> None:
    async def crashed_while_waiting() -> None:  # buried, due time recorded, then killed
        client = mongo_client(cli.settings)
        try:
            store = MongoTombstoneStore(client[cli.settings.mongo_database], [OLD.encode()])
            await store.bury("demo", "ana")
            due = datetime.now(UTC) + timedelta(seconds=1)
            assert await store.second_sweep_due("demo", "ana", due) == due.replace(
                microsecond=due.microsecond // 1000 * 1000
            )
        finally:
            await client.close()

    asyncio.run(crashed_while_waiting())
    cli.store_statement("ana")
    started = time.monotonic()
    again = cli.erase("ana", auth_cache_seconds="60")
    assert again.exit_code == 0, again.output
    assert time.monotonic() - started < 10, "it waits for the recorded time, not a new one"
    assert cli.statements_of("ana") == 0
    assert "swept" in cli.tombstones()[0]


def test_a_previous_secret_still_matches_and_a_rekey_rewrites_under_the_current_one(
    cli: Erasures,
) -> None:
    assert cli.erase("ana", erasure_sweep_margin_seconds="0", auth_cache_seconds="0").exit_code == 0
    assert cli.erased("ana", OLD)
    assert not cli.erased("ana", NEW), "a new secret alone forgets the erasure"
    assert cli.erased("ana", NEW, OLD)

    rekeyed = cli("erasure", "rekey", "--json", erasure_secret=NEW, erasure_secrets_previous=OLD)
    assert rekeyed.exit_code == 0, rekeyed.output
    assert rekeyed.stdout.strip() == '{"rewritten": 1, "current": 0, "left": 0}'
    stored = [tombstone["_id"] for tombstone in cli.tombstones()]
    assert tombstone_id(OLD.encode(), "demo", "ana") not in stored
    assert cli.erased("ana", NEW, OLD)
    again = cli("erasure", "rekey", "--json", erasure_secret=NEW, erasure_secrets_previous=OLD)
    assert again.stdout.strip() == '{"rewritten": 0, "current": 1, "left": 0}'
    back = cli(
        "reenable",
        "--tenant",
        "demo",
        "--user",
        "ana",
        erasure_secret=NEW,
        erasure_secrets_previous=OLD,
    )
    assert back.exit_code == 0, back.output
    assert cli.tombstones() == []


def test_erasure_commands_refuse_the_public_default_secret_outside_development(
    cli: Erasures,
) -> None:
    for args in (["erase", "--tenant", "demo", "--user", "ana", "--yes"], ["erasure", "rekey"]):
        result = cli.runner.invoke(
            app,
            args,
            env={
                "PROGRESS_MONGO_URL": cli.settings.mongo_url,
                "PROGRESS_MONGO_DATABASE": cli.settings.mongo_database,
                "PROGRESS_ENVIRONMENT": None,
                "PROGRESS_ERASURE_SECRET": None,
            },
        )
        assert result.exit_code == 2
        assert "PROGRESS_ERASURE_SECRET" in result.stderr
    assert cli.tombstones() == []

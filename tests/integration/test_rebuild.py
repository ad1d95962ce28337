"""`progressctl rebuild`: identical snapshots to the projector's, and resumable."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from services.progressctl.cli import app
from shared.adapters.clock import SystemClock
from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import SNAPSHOTS, ensure_indexes, mongo_client
from shared.adapters.rebuild_checkpoints import MongoRebuildCheckpoints
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import RecordedEvent
from shared.service_layer.projection import Projection
from shared.service_layer.rebuild import RebuildReport, RebuildScope, SnapshotRebuilder
from tests.support.services import service_env
from tests.unit.domain.builders import raw_event, record

pytestmark = pytest.mark.integration

USERS = 1000  # ten rebuild chunks: the interrupt lands between two of them


def events_for(index: int) -> list[RecordedEvent]:
    user = f"learner-{index:05d}"
    return [
        record(
            raw_event(
                "media.progressed",
                f"2026-11-20T10:{minute:02d}:00Z",
                {
                    "contentId": f"video-{index % 7}",
                    "positionSeconds": 30 * minute,
                    "durationSeconds": 120,
                    "watchedSeconds": 30,
                },
                event_id=f"{user}-{minute}",
            ),
            user=user,
        )
        for minute in range(1, 3)
    ]


async def seed(settings: Settings) -> dict[str, str]:
    """Project every user's events the projector's way; return the stored snapshots."""
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        await ensure_indexes(db)
        projection = Projection(MongoEventLog(db), MongoSnapshotStore(db))
        batch: list[RecordedEvent] = []
        for index in range(USERS):
            batch.extend(events_for(index))
            if len(batch) >= 200:
                await projection.project(batch)
                batch = []
        await projection.project(batch)
        return {doc["_id"]: doc["state"] async for doc in db[SNAPSHOTS].find({})}
    finally:
        await client.close()


async def states(settings: Settings) -> dict[str, str]:
    client = mongo_client(settings)
    try:
        return {
            doc["_id"]: doc["state"]
            async for doc in client[settings.mongo_database][SNAPSHOTS].find({})
        }
    finally:
        await client.close()


class Interrupt(Exception):
    pass


async def interrupted_run(settings: Settings, after: int) -> None:
    client = mongo_client(settings)

    def stop(report: RebuildReport) -> None:
        if report.rebuilt >= after:
            raise Interrupt

    try:
        db = client[settings.mongo_database]
        rebuilder = SnapshotRebuilder(
            MongoEventLog(db), MongoSnapshotStore(db), MongoRebuildCheckpoints(db), SystemClock()
        )
        with pytest.raises(Interrupt):
            await rebuilder.run(RebuildScope(), progress=stop)
    finally:
        await client.close()


@pytest.fixture
def own_database(settings: Settings) -> Iterator[Settings]:
    own = settings.model_copy(update={"mongo_database": f"rebuild_{uuid.uuid4().hex[:8]}"})
    yield own

    async def drop() -> None:
        client = mongo_client(own)
        await client.drop_database(own.mongo_database)
        await client.close()

    asyncio.run(drop())


def test_interrupted_rebuild_resumes_and_matches_the_projector(
    own_database: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    projected = asyncio.run(seed(own_database))
    assert len(projected) == USERS
    asyncio.run(interrupted_run(own_database, after=USERS // 2))
    for name, value in service_env(own_database).items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["rebuild", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report == {
        "users": USERS,
        "rebuilt": USERS - USERS // 2,
        "skipped": USERS // 2,
        "failed": [],
    }
    assert asyncio.run(states(own_database)) == projected

    again = CliRunner().invoke(
        app, ["rebuild", "--tenant", "demo", "--user", "learner-00001", "--json"]
    )
    assert json.loads(again.output.strip().splitlines()[-1]) == {
        "users": 1,
        "rebuilt": 1,
        "skipped": 0,
        "failed": [],
    }

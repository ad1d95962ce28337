"""`StateImport`: NDJSON saved states through `Ingest`, resumable by checkpoint, on fakes."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from shared.domain import RecordedEvent
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.ingest import Ingest
from shared.service_layer.state_import import ImportReport, StateImport
from tests.fakes import (
    FixedClock,
    InMemoryCatalogStore,
    InMemoryImportCheckpoints,
    InMemoryPublisher,
    InMemorySnapshotStore,
    InMemoryTombstoneStore,
    consistency_over_fakes,
)


def _line(user: str, items: int = 1, **extra: object) -> str:
    state = {"items": {f"ch-{n}": {"status": "completed"} for n in range(items)}}
    return json.dumps({"userId": user, "state": state, **extra})


def _content(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


class World:
    """An import over fakes: the gateway's ingest parts, all given, and a checkpoint store."""

    def __init__(self, part: int = 500) -> None:
        self.publisher, self.checkpoints = InMemoryPublisher(), InMemoryImportCheckpoints()
        snapshots = InMemorySnapshotStore()
        consistency = consistency_over_fakes(snapshots)
        ingest = Ingest(
            self.publisher,
            InMemoryTombstoneStore(),
            snapshots,
            consistency=consistency,
            courses=InMemoryCatalogStore(),
        )
        self.importer = StateImport(ingest, self.checkpoints, FixedClock(), part)

    def users(self) -> list[str]:
        return sorted({event.user_id for event, _ in self.publisher.published})


async def test_every_line_is_imported_and_each_bad_one_named_by_its_number_and_field() -> None:
    world = World()
    content = _content(_line("u1"), "", _line("bad user"), "not json", _line("u2"))
    seen: list[int] = []

    report = await world.importer.run("demo", content, progress=lambda r: seen.append(r.done))

    assert (report.lines, report.done, report.events) == (5, 5, 2)
    assert [problem.split(":")[0] for problem in report.problems] == ["line 3", "line 4"]
    assert "userId" in report.problems[0]
    assert world.users() == ["u1", "u2"]
    assert seen == [0, 1, 2, 3, 4, 5]
    assert list(world.checkpoints.runs.values()) == [5]


async def test_a_run_resumes_after_its_last_finished_line_unless_restarted() -> None:
    world = World()
    content = _content(_line("u1"), _line("u2"), _line("u3"))
    publish = world.publisher.publish

    async def down_at_u2(events: Sequence[RecordedEvent], request_id: str) -> None:
        if any(event.user_id == "u2" for event in events):
            raise BrokerUnavailable("down")
        await publish(events, request_id)

    world.publisher.publish = down_at_u2  # type: ignore[method-assign]
    with pytest.raises(BrokerUnavailable):
        await world.importer.run("demo", content)
    assert list(world.checkpoints.runs.values()) == [1], "the failed line is not finished"
    world.publisher.publish = publish  # type: ignore[method-assign]

    resumed = await world.importer.run("demo", content)

    assert (resumed.done, resumed.events, world.users()) == (3, 2, ["u1", "u2", "u3"])
    again = await world.importer.run("demo", content, restart=True)
    assert again.events == 3


async def test_a_lines_events_go_out_in_parts_of_at_most_the_part_size() -> None:
    world = World(part=2)

    report = await world.importer.run("demo", _content(_line("u1", items=5)))

    requests = [request_id for _, request_id in world.publisher.published]
    assert report.events == len(requests) == 5
    assert sorted(set(requests)) == ["import-1-0", "import-1-1", "import-1-2"]


async def test_the_same_file_for_another_tenant_is_another_run() -> None:
    world = World()
    content = _content(_line("u1"))
    reports: list[ImportReport] = [
        await world.importer.run(tenant, content) for tenant in ("demo", "other")
    ]

    assert [report.events for report in reports] == [1, 1]
    assert len(world.checkpoints.runs) == 2

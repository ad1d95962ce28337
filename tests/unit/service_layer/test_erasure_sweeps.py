"""The erase's second sweep (DESIGN Wave 3 "Erasure"): it removes what a gateway stored while
its tombstone cache still said "not erased", and a re-run of a crashed erase resumes it."""

from __future__ import annotations

import pytest

from shared.service_layer.erasure import erase_user
from shared.service_layer.xapi.ports import StatementRecord
from tests.fakes import (
    FixedClock,
    InMemoryCertificateStore,
    InMemoryDeadLetterStore,
    InMemoryEventLog,
    InMemorySnapshotStore,
    InMemoryStatementStore,
    InMemoryTombstoneStore,
    InMemoryUserDataStore,
)

pytestmark = pytest.mark.unit

SETTLE = 15.0


class Crash(Exception):
    """The operator's erase process dies while it waits for the second sweep."""


class Erasing:
    """An erase's world: a learner's statements, tombstones, a clock and a recorded wait."""

    def __init__(self) -> None:
        self.clock, self.tombstones = FixedClock(), InMemoryTombstoneStore()
        self.statements = InMemoryStatementStore()
        self.store = InMemoryUserDataStore(
            InMemoryEventLog(),
            InMemorySnapshotStore(),
            InMemoryDeadLetterStore(),
            InMemoryCertificateStore(),
            statements=self.statements,
        )
        self.waits: list[float] = []

    async def statement(self, statement_id: str) -> None:
        """A statement of u1 stored as the gateway stores it (its cache lagging the erasure)."""
        record = StatementRecord({"id": statement_id}, self.clock.now(), "u1")
        await self.statements.insert("demo", [record])

    async def erase(self, *, raced: bool = False, crash: bool = False) -> dict[str, int]:
        async def sleep(seconds: float) -> None:
            self.waits.append(seconds)
            if raced:
                await self.statement("raced")
            self.clock.advance(seconds if not crash else 1)
            if crash:
                raise Crash

        return await erase_user(
            self.tombstones,
            self.store,
            "demo",
            "u1",
            clock=self.clock,
            settle_seconds=SETTLE,
            sleep=sleep,
        )


async def test_the_second_sweep_removes_a_statement_stored_inside_the_cache_window() -> None:
    world = Erasing()
    await world.statement("before")
    deleted = await world.erase(raced=True)
    assert world.statements.statements == {}
    assert deleted["xapi_statements"] == 2
    assert world.waits == [SETTLE]
    assert world.store.audits[-1]["deleted"] == deleted


async def test_a_crashed_erase_resumes_its_second_sweep_when_run_again() -> None:
    world = Erasing()
    with pytest.raises(Crash):
        await world.erase(crash=True)
    await world.statement("raced")
    world.clock.advance(4)
    await world.erase()
    assert world.waits == [SETTLE, SETTLE - 5]
    assert world.statements.statements == {}
    await world.statement("after")
    await world.erase()
    assert world.waits == [SETTLE, SETTLE - 5], "a finished erase does not wait again"


async def test_a_second_sweep_already_due_runs_without_waiting() -> None:
    world = Erasing()
    with pytest.raises(Crash):
        await world.erase(crash=True)
    world.clock.advance(SETTLE)
    await world.statement("raced")
    await world.erase()
    assert world.waits == [SETTLE]
    assert world.statements.statements == {}

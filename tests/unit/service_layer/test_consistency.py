"""Read-your-writes on fakes: exact per user, bounded, and one poll for every waiter."""

from __future__ import annotations

import asyncio

import pytest

from shared.service_layer.consistency import ReadYourWrites, SnapshotWatcher, TokenRefused
from shared.service_layer.projection import Projection
from tests.fakes import InMemoryEventLog, InMemorySnapshotStore, InMemoryWrittenEvents
from tests.unit.service_layer.test_consume import event

KEY = ("demo", "u1")


class CountingSnapshots(InMemorySnapshotStore):
    def __init__(self) -> None:
        super().__init__()
        self.polls = 0

    async def positions(self, keys):  # type: ignore[no-untyped-def]
        self.polls += 1
        return await super().positions(keys)


def rig() -> tuple[ReadYourWrites, Projection, CountingSnapshots, InMemoryWrittenEvents]:
    log, snapshots, written = InMemoryEventLog(), CountingSnapshots(), InMemoryWrittenEvents()
    watcher = SnapshotWatcher(snapshots, interval=0.01)
    return (
        ReadYourWrites(log, watcher, written, [b"secret"]),
        Projection(log, snapshots),
        snapshots,
        written,
    )


async def test_a_wait_ends_when_the_write_is_projected_and_not_before() -> None:
    consistency, projection, _, _ = rig()
    token = await consistency.token(KEY, ["e-1", "e-2"])
    assert await consistency.wait(token, KEY, 0.05) is False
    waiting = asyncio.create_task(consistency.wait(token, KEY, 2.0))
    await asyncio.sleep(0.03)
    await projection.project([event(1)])
    await asyncio.sleep(0.03)
    assert not waiting.done()
    await projection.project([event(2)])
    assert await waiting is True


async def test_large_writes_are_named_by_reference_and_foreign_tokens_refused() -> None:
    consistency, _projection, _, written = rig()
    token = await consistency.token(KEY, [f"e-{n}" for n in range(40)])
    assert len(written.writes) == 1
    assert len(token) < 200
    with pytest.raises(TokenRefused):
        await consistency.wait(token, ("demo", "someone-else"), 0.01)
    with pytest.raises(TokenRefused):
        await consistency.wait(token[:-2] + "xx", KEY, 0.01)
    written.writes.clear()
    with pytest.raises(TokenRefused):
        await consistency.wait(token, KEY, 0.01)


async def test_a_hundred_waiters_share_one_poll() -> None:
    consistency, _projection, snapshots, _ = rig()
    tokens = [await consistency.token(("demo", f"u{n}"), ["never"]) for n in range(100)]
    before = snapshots.polls
    results = await asyncio.gather(
        *(consistency.wait(token, ("demo", f"u{n}"), 0.2) for n, token in enumerate(tokens))
    )
    assert results == [False] * 100
    polls = snapshots.polls - before - 100  # each waiter's own first look
    assert polls <= 40  # about one per 10 ms interval over 0.2 s, not one per waiter


async def test_tokens_signed_under_a_previous_erasure_secret_stay_valid() -> None:
    """Changing PROGRESS_ERASURE_SECRET (the old one in ..._PREVIOUS) keeps tokens valid."""
    log, snapshots, written = InMemoryEventLog(), InMemorySnapshotStore(), InMemoryWrittenEvents()
    watcher = SnapshotWatcher(snapshots, interval=0.01)
    before = ReadYourWrites(log, watcher, written, [b"old"])
    token = await before.token(KEY, ["e-1"])
    await Projection(log, snapshots).project([event(1)])
    rotated = ReadYourWrites(log, watcher, written, [b"new", b"old"])
    assert await rotated.wait(token, KEY, 0.05) is True
    with pytest.raises(TokenRefused):
        await ReadYourWrites(log, watcher, written, [b"new"]).wait(token, KEY, 0.05)

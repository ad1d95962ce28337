"""Read-your-writes on fakes: exact per user, bounded, and one poll for every waiter."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from shared.domain import Snapshot
from shared.service_layer.consistency import (
    ReadYourWrites,
    SnapshotWatcher,
    TokenRefused,
    Waited,
)
from shared.service_layer.dead_letter_records import DeadLetter
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.projection import Projection
from shared.service_layer.stored_snapshots import SnapshotUpdate
from tests.fakes import (
    FixedClock,
    InMemoryDeadLetterStore,
    InMemoryEventLog,
    InMemorySnapshotStore,
    InMemoryTombstoneStore,
    InMemoryWrittenEvents,
)
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
        ReadYourWrites(log, watcher, written, [b"secret"], clock=FixedClock()),
        Projection(log, snapshots),
        snapshots,
        written,
    )


async def test_a_wait_ends_when_the_write_is_projected_and_not_before() -> None:
    consistency, projection, _, _ = rig()
    token = await consistency.token(KEY, ["e-1", "e-2"])
    assert await consistency.wait(token, KEY, 0.05) == Waited(False, "timed_out")
    waiting = asyncio.create_task(consistency.wait(token, KEY, 2.0))
    await asyncio.sleep(0.03)
    await projection.project([event(1)])
    await asyncio.sleep(0.03)
    assert not waiting.done()
    await projection.project([event(2)])
    assert await waiting == Waited(True, "reflected")


async def test_an_announced_change_releases_a_wait_long_before_the_slow_poll() -> None:
    log, snapshots, written = InMemoryEventLog(), CountingSnapshots(), InMemoryWrittenEvents()
    watcher = SnapshotWatcher(snapshots, interval=30.0)
    consistency = ReadYourWrites(log, watcher, written, [b"secret"], clock=FixedClock())
    projection = Projection(log, snapshots)
    token = await consistency.token(KEY, ["e-1"])
    waiting = asyncio.create_task(consistency.wait(token, KEY, 10.0))
    await asyncio.sleep(0.02)
    await projection.project([event(1)])
    watcher.notice(("demo", "someone-else"), 5)
    watcher.notice(KEY, 1)
    assert await asyncio.wait_for(waiting, 1.0) == Waited(True, "reflected")


async def test_an_announced_change_behind_the_wait_releases_nothing() -> None:
    watcher = SnapshotWatcher(CountingSnapshots(), interval=30.0)
    moved = asyncio.create_task(watcher.moved(KEY, 3, 0.2))
    await asyncio.sleep(0.01)
    watcher.notice(KEY, 3)
    assert await moved is False
    released = asyncio.create_task(watcher.moved(KEY, 3, 5.0))
    await asyncio.sleep(0.01)
    watcher.notice(KEY, 0)  # an erase: the wait looks again and finds its write lost
    assert await asyncio.wait_for(released, 1.0) is True


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


async def test_a_large_writes_ids_are_kept_as_long_as_its_token_lives() -> None:
    written, clock = InMemoryWrittenEvents(), FixedClock()
    consistency = ReadYourWrites(
        InMemoryEventLog(),
        SnapshotWatcher(InMemorySnapshotStore(), interval=0.01),
        written,
        [b"secret"],
        clock=clock,
        lifetime=timedelta(days=30),
    )
    await consistency.token(KEY, [f"e-{n}" for n in range(40)])
    assert list(written.until.values()) == [clock.now() + timedelta(days=30)]


async def test_a_hundred_waiters_share_one_poll() -> None:
    consistency, _projection, snapshots, _ = rig()
    tokens = [await consistency.token(("demo", f"u{n}"), ["never"]) for n in range(100)]
    before = snapshots.polls
    results = await asyncio.gather(
        *(consistency.wait(token, ("demo", f"u{n}"), 0.2) for n, token in enumerate(tokens))
    )
    assert results == [Waited(False, "timed_out")] * 100
    polls = snapshots.polls - before - 100  # each waiter's own first look
    assert polls <= 40  # about one per 10 ms interval over 0.2 s, not one per waiter


async def test_tokens_signed_under_a_previous_erasure_secret_stay_valid() -> None:
    """Changing PROGRESS_ERASURE_SECRET (the old one in ..._PREVIOUS) keeps tokens valid."""
    log, snapshots, written = InMemoryEventLog(), InMemorySnapshotStore(), InMemoryWrittenEvents()
    watcher = SnapshotWatcher(snapshots, interval=0.01)
    before = ReadYourWrites(log, watcher, written, [b"old"], clock=FixedClock())
    token = await before.token(KEY, ["e-1"])
    await Projection(log, snapshots).project([event(1)])
    rotated = ReadYourWrites(log, watcher, written, [b"new", b"old"], clock=FixedClock())
    assert (await rotated.wait(token, KEY, 0.05)).consistent
    with pytest.raises(TokenRefused):
        await ReadYourWrites(log, watcher, written, [b"new"], clock=FixedClock()).wait(
            token, KEY, 0.05
        )


class Lost:
    """A consistency rig whose waits can see dead letters, erasures and the clock."""

    def __init__(self) -> None:
        self.log, self.snapshots = InMemoryEventLog(), InMemorySnapshotStore()
        self.letters, self.tombstones = InMemoryDeadLetterStore(), InMemoryTombstoneStore()
        self.clock = FixedClock()
        self.consistency = ReadYourWrites(
            self.log,
            SnapshotWatcher(self.snapshots, interval=0.01),
            InMemoryWrittenEvents(),
            [b"secret"],
            letters=self.letters,
            tombstones=self.tombstones,
            clock=self.clock,
            lifetime=timedelta(hours=1),
        )

    async def dead_letter(self, event_id: str) -> None:
        letter = DeadLetter(
            "quota",
            b"{}",
            None,
            [],
            "progress.events",
            0,
            7,
            tenant_id=KEY[0],
            user_id=KEY[1],
            event_id=event_id,
        )
        await self.letters.add(letter)

    async def timed_wait(self, token: str, within: float) -> tuple[Waited, float]:
        started = time.monotonic()
        waited = await self.consistency.wait(token, KEY, within)
        return waited, time.monotonic() - started


async def test_a_wait_on_a_dead_lettered_event_ends_at_once_unreflected() -> None:
    rig = Lost()
    token = await rig.consistency.token(KEY, ["e-1", "e-2"])
    await Projection(rig.log, rig.snapshots).project([event(1)])
    await rig.dead_letter("e-2")
    waited, seconds = await rig.timed_wait(token, 10.0)
    assert waited == Waited(False, "lost")
    assert seconds < 0.5


async def test_an_event_dead_lettered_during_the_wait_ends_it_within_a_check() -> None:
    rig = Lost()
    token = await rig.consistency.token(KEY, ["e-9"])
    waiting = asyncio.create_task(rig.timed_wait(token, 10.0))
    await asyncio.sleep(0.1)
    await rig.dead_letter("e-9")
    waited, seconds = await waiting
    assert waited == Waited(False, "lost")
    assert seconds < 1.5  # one look per 0.5 s, not the 10 s bound


async def test_a_wait_for_an_erased_user_ends_at_once() -> None:
    """The projector drops an erased user's events in flight: they will never be reflected."""
    rig = Lost()
    token = await rig.consistency.token(KEY, ["e-1"])
    await rig.tombstones.bury(*KEY)
    waited, seconds = await rig.timed_wait(token, 10.0)
    assert waited == Waited(False, "lost")
    assert seconds < 0.5


async def test_an_expired_token_is_answered_at_once_with_what_is_reflected_now() -> None:
    rig = Lost()
    pending = await rig.consistency.token(KEY, ["e-5"])
    done = await rig.consistency.token(KEY, ["e-1"])
    await Projection(rig.log, rig.snapshots).project([event(1)])
    rig.clock.advance(3601)
    waited, seconds = await rig.timed_wait(pending, 10.0)
    assert (waited, seconds < 0.3) == (Waited(False, "expired"), True)
    assert (await rig.timed_wait(done, 10.0))[0] == Waited(True, "expired")
    rig.clock.advance(-2)
    young = await rig.consistency.token(KEY, ["e-1"])
    assert (await rig.timed_wait(young, 10.0))[0] == Waited(True, "reflected")


async def test_a_token_without_an_issue_time_counts_as_expired() -> None:
    """Tokens minted before tokens expired carry no time: they no longer make a read wait."""
    rig = Lost()
    codec = rig.consistency._codec  # mint a token as a gateway did before tokens expired
    legacy = codec.encode({"t": KEY[0], "u": KEY[1], "e": ["e-7"]})
    waited, seconds = await rig.timed_wait(legacy, 10.0)
    assert waited == Waited(False, "expired")
    assert seconds < 0.5


async def test_a_write_above_a_position_still_empty_is_not_reflected_until_it_is_stored() -> None:
    log, snapshots, written = InMemoryEventLog(), InMemorySnapshotStore(), InMemoryWrittenEvents()
    consistency = ReadYourWrites(
        log, SnapshotWatcher(snapshots, 0.01), written, [b"secret"], clock=FixedClock()
    )
    await log.append([LogEntry(1, event(1)), LogEntry(3, event(3))])
    await snapshots.save_many([SnapshotUpdate(KEY, Snapshot.empty(*KEY), 3, 0)])
    token = await consistency.token(KEY, ["e-3"])
    waiting = asyncio.create_task(consistency.wait(token, KEY, 2.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # seq 2 may still come: a read answered now would pass it
    await log.append([LogEntry(2, event(2))])
    assert await waiting == Waited(True, "reflected")

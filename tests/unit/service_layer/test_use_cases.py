"""Ingest, reading, dead-letter replay and purge, erasure and rebuild, on fakes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from shared.domain import parse_course, reduce
from shared.service_layer.catalog import CourseCatalog
from shared.service_layer.dead_letter_records import LetterFilter
from shared.service_layer.dead_letters import pending_letters, purge, replay
from shared.service_layer.erasure import Erasure, erase_user, reenable_user
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.ingest import Ingest, Submission
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.merge import GuestMerge, MergeRefused
from shared.service_layer.projection import Projection
from shared.service_layer.reading import ProgressReader
from shared.service_layer.rebuild import RebuildScope, SnapshotRebuilder
from shared.service_layer.stored_snapshots import SnapshotUpdate
from tests.contract.test_operator_stores import letter
from tests.fakes import (
    FixedClock,
    InMemoryCatalogJobStore,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemoryDeadLetterStore,
    InMemoryEventLog,
    InMemoryMergePointers,
    InMemoryPublisher,
    InMemoryRebuildCheckpoints,
    InMemoryRepublisher,
    InMemorySnapshotStore,
    InMemoryTombstoneStore,
    InMemoryUserDataStore,
)
from tests.unit.domain.builders import FAR_FUTURE, raw_event, record
from tests.unit.service_layer.test_consume import event

GOOD = raw_event("content.rated", "2026-11-20T10:00:00Z", {"contentId": "c", "rating": "easy"})


async def test_ingest_publishes_the_good_events_and_rejects_the_rest_by_field() -> None:
    publisher = InMemoryPublisher()
    bad = {**GOOD, "eventId": "e-2", "payload": {"contentId": "c"}}
    result = await Ingest(publisher, InMemoryTombstoneStore()).submit(
        "demo",
        [Submission("u1", GOOD), Submission("u1", bad), Submission(None, GOOD)],
        now=FAR_FUTURE,
        request_id="r-1",
    )
    assert [o.accepted for o in result.outcomes] == [True, False, False]
    assert result.outcomes[1].field == "payload.rating"
    assert result.outcomes[1].code == "invalid_event"
    assert "userId" in (result.outcomes[2].error or "")
    assert [(e.event_id, r) for e, r in publisher.published] == [("e-1", "r-1")]


async def test_ingest_without_an_ack_raises_and_claims_nothing() -> None:
    publisher = InMemoryPublisher()
    publisher.unavailable = BrokerUnavailable("no ack")
    with pytest.raises(BrokerUnavailable):
        await Ingest(publisher, InMemoryTombstoneStore()).submit(
            "demo", [Submission("u1", GOOD)], now=FAR_FUTURE, request_id="r"
        )


async def test_a_page_serves_only_what_the_snapshot_reflects_in_cursor_order() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    await Projection(log, snapshots).project([event(n) for n in range(1, 6)])
    reader = ProgressReader(log, snapshots)
    first = await reader.page(("demo", "u1"), since=0, limit=2)
    assert [e.event.event_id for e in first.entries] == ["e-1", "e-2"]
    assert first.has_more
    rest = await reader.page(("demo", "u1"), since=first.cursor, limit=10)
    assert [e.event.event_id for e in rest.entries] == ["e-3", "e-4", "e-5"]
    assert not rest.has_more
    assert rest.cursor == 5
    bare = await reader.page(("demo", "nobody"), since=None, limit=10)
    assert (bare.cursor, bare.entries, bare.snapshot.event_count) == (0, [], 0)


async def test_replay_republishes_and_marks_and_purge_deletes() -> None:
    letters, publisher = InMemoryDeadLetterStore(), InMemoryRepublisher()
    first = await letters.add(letter(1, tenant="a"))
    await letters.add(letter(2, tenant="b"))
    chosen = await pending_letters(letters, "a")
    assert await replay(letters, publisher, chosen) == [first]
    assert publisher.sent == [(letter(1).raw, b"demo/u1", None)]
    assert await pending_letters(letters, "a") == []
    assert await purge(letters, None, LetterFilter(tenant_id="b")) == 1
    assert await purge(letters, first, LetterFilter()) == 1
    assert await letters.count() == 0


async def test_erasure_audits_counts_without_the_user() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    await Projection(log, snapshots).project([event(1)])
    store = InMemoryUserDataStore(
        log, snapshots, InMemoryDeadLetterStore(), InMemoryCertificateStore()
    )
    deleted = await erase_user(
        InMemoryTombstoneStore(), store, "demo", "u1", clock=FixedClock(), settle_seconds=0
    )
    assert deleted["events"] == 1
    assert store.audits == [{"action": "erase", "tenant": "demo", "deleted": deleted}]
    assert "u1" not in repr(store.audits)


async def test_rebuild_recomputes_resumes_and_never_overwrites_newer_state() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    await Projection(log, snapshots).project([event(n) for n in range(1, 4)])
    key = ("demo", "u1")
    wrong = reduce([event(1)], tenant_id="demo", user_id="u1")
    await snapshots.save_many([SnapshotUpdate(key, wrong, 3, 3)])
    checkpoints = InMemoryRebuildCheckpoints()
    rebuilder = SnapshotRebuilder(log, snapshots, checkpoints, FixedClock())
    report = await rebuilder.run(RebuildScope(tenant_id="demo"))
    assert (report.total, report.rebuilt) == (1, 1)
    expected = reduce([event(n) for n in range(1, 4)], tenant_id="demo", user_id="u1")
    assert (await snapshots.load_many([key]))[key].snapshot == expected
    assert await checkpoints.last_done(RebuildScope(tenant_id="demo").run_id) is None


async def test_catalog_changes_queue_a_job_and_views_judge_under_the_kept_version() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    done = raw_event(
        "content.progressed", "2026-11-20T10:00:00Z", {"contentId": "x", "status": "completed"}
    )
    claim = raw_event("course.completed", "2026-11-20T11:00:00Z", {"courseId": "c"}, event_id="e-2")
    await Projection(log, snapshots).project([record(done), record(claim)])
    certificates, jobs = InMemoryCertificateStore(), InMemoryCatalogJobStore()
    catalog = CourseCatalog(InMemoryCatalogStore(), certificates, jobs, FixedClock())
    course = parse_course({"courseId": "c", "items": [{"contentId": "x", "kind": "step"}]})
    saved = await catalog.save("demo", course)
    assert (saved.created, saved.job.change.revision, saved.job.state) == (True, 1, "queued")
    stricter = parse_course(
        {
            "courseId": "c",
            "items": [{"contentId": "x", "kind": "step"}, {"contentId": "y", "kind": "step"}],
        }
    )
    replaced = await catalog.save("demo", stricter)
    assert (replaced.created, replaced.job.change.revision) == (False, 2)
    states = {job.change.revision: job.state for job in await jobs.recent("demo", 5)}
    assert states == {1: "superseded", 2: "queued"}
    assert certificates.certificates == {}
    snapshot = (await snapshots.load_many([("demo", "u1")]))[("demo", "u1")].snapshot
    view = await catalog.view(snapshot, "c")
    assert view is not None
    assert view.certificate.earned_at is not None
    assert not view.certificate.eligible
    removed = await catalog.remove("demo", "c")
    assert removed is not None
    assert (removed.change.revision, removed.change.removed, removed.state) == (3, True, "queued")
    states = {job.change.revision: job.state for job in await jobs.recent("demo", 5)}
    assert states == {1: "superseded", 2: "superseded", 3: "queued"}
    assert await catalog.remove("demo", "c") is None
    back = await catalog.save("demo", course)
    assert (back.created, back.job.change.revision) == (True, 4)


async def test_ingest_rejects_the_events_of_erased_users_by_code() -> None:
    publisher, tombstones = InMemoryPublisher(), InMemoryTombstoneStore()
    await tombstones.bury("demo", "gone")
    ingest = Ingest(publisher, tombstones)
    result = await ingest.submit(
        "demo", [Submission("gone", GOOD), Submission("u1", GOOD)], now=FAR_FUTURE, request_id="r"
    )
    assert [(o.accepted, o.code) for o in result.outcomes] == [(False, "erased"), (True, None)]
    assert await ingest.erased("demo", "gone")
    assert not await ingest.erased("demo", "u1")


async def test_a_projection_drops_erased_users_and_sweeps_what_a_race_wrote() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    tombstones = InMemoryTombstoneStore()
    store = InMemoryUserDataStore(
        log, snapshots, InMemoryDeadLetterStore(), InMemoryCertificateStore()
    )
    projection = Projection(log, snapshots, Erasure(tombstones, store))
    await tombstones.bury("demo", "u1")
    report = await projection.project([event(1)])
    assert report.erased == 1
    assert log.entries == {}

    class BuriedMidway(InMemorySnapshotStore):
        async def save_many(self, updates):  # the erasure lands between log and snapshot write
            await tombstones.bury("demo", "u2")
            return await super().save_many(updates)

    racing = BuriedMidway()
    store = InMemoryUserDataStore(
        log, racing, InMemoryDeadLetterStore(), InMemoryCertificateStore()
    )
    other = [
        record(
            raw_event(
                "content.rated", "2026-11-20T10:00:00Z", {"contentId": "c", "rating": "easy"}
            ),
            user="u2",
        )
    ]
    report = await Projection(log, racing, Erasure(tombstones, store)).project(other)
    assert report.applied == []
    assert ("demo", "u2") not in log.entries
    assert racing.snapshots == {}


async def test_erase_buries_then_deletes_and_reenable_lets_the_id_back() -> None:
    tombstones = InMemoryTombstoneStore()
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    store = InMemoryUserDataStore(
        log, snapshots, InMemoryDeadLetterStore(), InMemoryCertificateStore()
    )
    await erase_user(tombstones, store, "demo", "u1", clock=FixedClock(), settle_seconds=0)
    assert tombstones.buried == {("demo", "u1")}
    assert await reenable_user(tombstones, store, "demo", "u1") is True
    assert await reenable_user(tombstones, store, "demo", "u1") is False
    assert [a["action"] for a in store.audits] == ["erase", "reenable"]


class Charges:
    """Records what each merge call charged."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, int], int]] = []

    def __call__(self, users: Mapping[str, int], cost: int) -> None:
        self.calls.append((dict(users), cost))


async def test_a_merge_moves_the_guests_events_and_skips_its_own_resets() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    await Projection(log, snapshots).project(
        [record(GOOD, user="guest"), record({**GOOD, "eventId": "e-2"}, user="guest")]
    )
    publisher, pointers, charges = InMemoryPublisher(), InMemoryMergePointers(), Charges()
    merge = GuestMerge(log, snapshots, publisher, pointers)
    options = {"limit": 500, "charge": charges, "now": FAR_FUTURE, "request_id": "r"}
    first = await merge.merge("demo", "acct", "guest", **options)  # type: ignore[arg-type]
    assert [e.event_id for e in first.moved] == ["e-1", "e-2"]
    assert {e.user_id for e in first.moved} == {"acct"}
    assert first.remaining == 0
    assert first.reset is not None
    assert first.reset.user_id == "guest"
    assert await merge.merged_into("demo", "guest") == "acct"
    await Projection(log, snapshots).project(
        [first.reset, record({**GOOD, "eventId": "e-3"}, user="guest")]
    )
    again = await merge.merge("demo", "acct", "guest", **options)  # type: ignore[arg-type]
    assert [e.event_id for e in again.moved] == ["e-3"]
    assert charges.calls == [({"acct": 2}, 2), ({"acct": 1}, 1)]
    with pytest.raises(MergeRefused):
        await merge.merge("demo", "acct", "acct", **options)  # type: ignore[arg-type]


async def test_a_large_merge_moves_a_page_per_call_and_reads_no_more_of_the_log() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    guest_events = [record({**GOOD, "eventId": f"g-{n:02d}"}, user="guest") for n in range(12)]
    await Projection(log, snapshots).project(guest_events)
    publisher, pointers, charges = InMemoryPublisher(), InMemoryMergePointers(), Charges()
    merge = GuestMerge(log, snapshots, publisher, pointers)
    read: list[int] = []
    paging = log.page

    async def counted_page(*args: Any) -> list[Any]:
        entries = await paging(*args)
        read.append(len(entries))
        return entries

    log.page = counted_page  # type: ignore[method-assign]
    remaining = []
    for _ in range(3):
        result = await merge.merge(
            "demo", "acct", "guest", limit=5, charge=charges, now=FAR_FUTURE, request_id="r"
        )
        remaining.append(result.remaining)
        assert (result.reset is None) == (result.remaining > 0)
    assert remaining == [7, 2, 0]
    assert read == [5, 5, 2]
    assert [cost for _, cost in charges.calls] == [5, 5, 2]
    moved = [event.event_id for event, _ in publisher.published if event.user_id == "acct"]
    assert moved == [f"g-{n:02d}" for n in range(12)]
    assert await merge.merged_into("demo", "guest") == "acct"


async def test_a_snapshot_above_the_visible_head_is_served_as_of_the_head() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    reader = ProgressReader(log, snapshots)
    key = ("demo", "u1")
    first, second, third = event(1), event(2), event(3)
    await log.append([LogEntry(1, first), LogEntry(3, third)])
    whole = reduce([first, third], tenant_id="demo", user_id="u1")
    await snapshots.save_many([SnapshotUpdate(key, whole, 3, 0)])
    bare, page = await reader.page(key, None, 10), await reader.page(key, 0, 10)
    assert (bare.cursor, bare.snapshot) == (1, reduce([first], tenant_id="demo", user_id="u1"))
    assert ([e.event.event_id for e in page.entries], page.cursor) == (["e-1"], 1)
    await log.append([LogEntry(2, second)])
    later = await reader.page(key, page.cursor, 10)
    assert ([e.event.event_id for e in later.entries], later.cursor) == (["e-2", "e-3"], 3)
    assert later.snapshot == whole

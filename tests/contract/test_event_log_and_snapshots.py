"""The event log's and the snapshot store's contract, on MongoDB and on the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.adapters.in_queries import IN_SLICE
from shared.domain import reduce
from shared.domain.course_views import Certificate
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.stored_snapshots import SnapshotUpdate, StoredSnapshot
from tests.contract.conftest import Stores
from tests.unit.domain.builders import raw_event, record


def entry(seq: int, event_id: str, content_id: str = "a.b", user: str = "u1") -> LogEntry:
    event = record(
        raw_event(
            "content.progressed",
            f"2026-11-20T10:00:{seq % 60:02d}Z",
            {"contentId": content_id, "status": "in_progress"},
            event_id=event_id,
        ),
        user=user,
    )
    return LogEntry(seq, event)


async def test_append_stores_once_and_reports_duplicates_and_collisions(stores: Stores) -> None:
    first = await stores.events.append([entry(1, "e-1"), entry(2, "e-2")])
    assert [e.seq for e in first.inserted] == [1, 2]
    again = await stores.events.append([entry(3, "e-1"), entry(2, "e-3"), entry(4, "e-4")])
    assert [e.event.event_id for e in again.duplicates] == ["e-1"]
    assert [e.event.event_id for e in again.collisions] == ["e-3"]
    assert [e.event.event_id for e in again.inserted] == ["e-4"]


async def test_ids_that_look_like_operators_are_stored_as_plain_values(stores: Stores) -> None:
    await stores.events.append([entry(1, "$where", content_id="$set.a.b")])
    found = (await stores.events.find_many({("demo", "u1"): ["$where"]}))[("demo", "u1")]
    assert found["$where"].event.event_id == "$where"
    snapshot = reduce([found["$where"].event], tenant_id="demo", user_id="u1")
    assert (
        await stores.snapshots.save_many([SnapshotUpdate(("demo", "u1"), snapshot, 1, 0)]) == set()
    )
    loaded = await stores.snapshots.load_many([("demo", "u1")])
    assert loaded[("demo", "u1")].snapshot == snapshot
    assert "$set.a.b" in loaded[("demo", "u1")].snapshot.to_api()["items"]


async def test_reads_by_many_ids_find_every_one_across_slices(stores: Stores) -> None:
    users = [f"u{n}" for n in range(IN_SLICE + 7)]
    entries = [entry(seq, f"e-{seq}", user=user) for user in users for seq in (1, 2)]
    await stores.events.append(entries)
    await stores.snapshots.save_many(
        [
            SnapshotUpdate(("demo", user), reduce([], tenant_id="demo", user_id=user), 2, 0)
            for user in users
        ]
    )
    found = await stores.events.find_many(
        {("demo", user): ["e-1", "e-2", "none"] for user in users}
    )
    assert {key: sorted(events) for key, events in found.items()} == {
        ("demo", user): ["e-1", "e-2"] for user in users
    }
    keys = [("demo", user) for user in users]
    assert set(await stores.snapshots.load_many(keys)) == set(keys)
    assert await stores.snapshots.positions([*keys, ("demo", "nobody")]) == {
        **{key: 2 for key in keys},
        ("demo", "nobody"): 0,
    }


async def test_after_and_page_follow_the_seq_order_per_user(stores: Stores) -> None:
    await stores.events.append(
        [entry(3, "c"), entry(1, "a"), entry(2, "b"), entry(1, "x", user="u2")]
    )
    after = await stores.events.after({("demo", "u1"): 1, ("demo", "u2"): 0, ("demo", "u3"): 0})
    assert [e.event.event_id for e in after[("demo", "u1")]] == ["b", "c"]
    assert [e.event.event_id for e in after[("demo", "u2")]] == ["x"]
    assert ("demo", "u3") not in after
    page = await stores.events.page(("demo", "u1"), 0, 2, limit=10)
    assert [e.seq for e in page] == [1, 2]
    assert [e.seq for e in await stores.events.page(("demo", "u1"), 0, 3, limit=1)] == [1]
    assert await stores.events.count(("demo", "u1"), 1, 3) == 2
    assert await stores.events.count(("demo", "u1"), 0, 2) == 2
    assert await stores.events.count(("demo", "u3"), 0, 9) == 0


async def test_snapshot_writes_are_conditional_on_the_applied_seq_and_version(
    stores: Stores,
) -> None:
    key = ("demo", "u9")
    snapshot = reduce([entry(1, "e-1", user="u9").event], tenant_id="demo", user_id="u9")
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 1, 0)]) == set()
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 2, 0)]) == {key}
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 2, 1, 0)]) == {key}
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 2, 1, 1)]) == set()
    stored = (await stores.snapshots.load_many([key]))[key]
    assert (stored.seq, stored.version) == (2, 2)
    rebuilt = SnapshotUpdate(key, snapshot, 2, 2, 2)
    older = SnapshotUpdate(key, snapshot, 2, 2, 2)
    assert await stores.snapshots.save_many([rebuilt]) == set()
    assert await stores.snapshots.save_many([older]) == {key}
    assert await stores.snapshots.load_many([("demo", "nobody")]) == {}


async def test_of_users_and_users_list_whole_logs_in_order(stores: Stores) -> None:
    await stores.events.append([entry(2, "b"), entry(1, "a"), entry(1, "x", user="u2")])
    logs = await stores.events.of_users("demo", ["u1", "u2", "nobody"])
    assert [e.event.event_id for e in logs[("demo", "u1")]] == ["a", "b"]
    assert [e.event.event_id for e in logs[("demo", "u2")]] == ["x"]
    assert ("demo", "nobody") not in logs
    assert await stores.events.users(None, None) == [("demo", "u1"), ("demo", "u2")]
    assert await stores.events.users("demo", "u2") == [("demo", "u2")]
    assert await stores.events.users("other", None) == []


async def test_walk_pages_the_tenant_s_snapshots_in_user_order(stores: Stores) -> None:
    claim = record(
        raw_event("course.completed", "2026-11-20T10:00:00Z", {"courseId": "c.1"}, event_id="c")
    )
    other = entry(1, "e-1", user="u2").event
    for key, event in ((("demo", "u1"), claim), (("demo", "u2"), other)):
        snapshot = reduce([event], tenant_id=key[0], user_id=key[1])
        assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 1, 0)]) == set()
    assert await stores.snapshots.count_of("demo") == 2
    pages = [[s.user_id for s in page] async for page in stores.snapshots.walk("demo", None, 1)]
    assert pages == [["u1"], ["u2"]]
    assert [p async for p in stores.snapshots.walk("demo", "u1", 5)] == [[snapshot]]


async def test_certificates_are_recorded_once_and_never_changed(stores: Stores) -> None:
    first = Certificate("demo", "u1", "c.1", datetime(2026, 11, 20, tzinfo=UTC))
    later = Certificate("demo", "u1", "c.1", datetime(2026, 11, 21, tzinfo=UTC))
    assert await stores.certificates.record([first]) == 1
    assert await stores.certificates.record([later]) == 0
    assert await stores.certificates.of_user("demo", "u1") == {"c.1": first}
    assert await stores.certificates.of_user("demo", "u2") == {}


async def test_certificates_of_many_users_are_read_together_by_user(stores: Stores) -> None:
    earned = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)
    certificates = [Certificate("demo", f"u{n}", "c.1", earned) for n in range(60)]
    extra = Certificate("demo", "u8", "c.$2", earned)
    elsewhere = Certificate("other", "u1", "c.1", earned)
    await stores.certificates.record([*certificates, extra, elsewhere])

    # More users than one `$in` slice names, some without any certificate.
    wanted = [f"u{n}" for n in range(0, 120, 2)]
    found = await stores.certificates.of_users("demo", wanted)

    assert found == {
        f"u{n}": {"c.1": certificates[n], **({"c.$2": extra} if n == 8 else {})}
        for n in range(0, 60, 2)
    }
    assert await stores.certificates.of_users("other", ["u1", "u2"]) == {"u1": {"c.1": elsewhere}}
    assert await stores.certificates.of_users("demo", []) == {}


async def test_checkpoints_serve_the_newest_usable_one_and_forget_what_a_late_event_outdates(
    stores: Stores,
) -> None:
    key = ("demo", "u1")
    events = [entry(n, f"e-{n}").event for n in range(1, 7)]
    for seq in (2, 4, 6):
        snapshot = reduce(events[:seq], tenant_id="demo", user_id="u1")
        await stores.snapshot_checkpoints.save(key, StoredSnapshot(snapshot, seq), keep=2)
    newest = await stores.snapshot_checkpoints.latest({key: (10, None), ("demo", "x"): (10, None)})
    assert list(newest) == [key]
    assert newest[key].seq == 6
    assert newest[key].snapshot == reduce(events, tenant_id="demo", user_id="u1")
    assert (await stores.snapshot_checkpoints.latest({key: (5, None)}))[key].seq == 4
    assert await stores.snapshot_checkpoints.latest({key: (3, None)}) == {}
    late = events[4].occurred_at, events[4].event_id
    assert (await stores.snapshot_checkpoints.latest({key: (10, late)}))[key].seq == 4
    await stores.snapshot_checkpoints.invalidate(key, late)
    assert (await stores.snapshot_checkpoints.latest({key: (10, None)}))[key].seq == 4


async def test_positions_tell_each_snapshot_applied_seq_without_reading_it(stores: Stores) -> None:
    key = ("demo", "u1")
    snapshot = reduce([entry(1, "e-1").event], tenant_id="demo", user_id="u1")
    await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 3, 0)])
    assert await stores.snapshots.positions([key, ("demo", "nobody")]) == {
        key: 3,
        ("demo", "nobody"): 0,
    }


async def test_usage_tells_how_much_of_the_quotas_a_snapshot_uses(stores: Stores) -> None:
    key = ("demo", "u1")
    snapshot = reduce(
        [entry(1, "e-1", content_id="a").event, entry(2, "e-2", content_id="b").event],
        tenant_id="demo",
        user_id="u1",
    )
    await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 2, 0)])
    usage = await stores.snapshots.usage([key, ("demo", "nobody")])
    assert (usage[key].items, usage[key].max_interactions) == (2, 0)
    assert usage[key].bytes == len(snapshot.to_storage())
    assert usage[("demo", "nobody")].items == 0


async def test_fillers_hold_positions_but_are_never_served_nor_counted(stores: Stores) -> None:
    key = ("demo", "u1")
    await stores.events.append([entry(1, "a"), entry(3, "c")])
    assert await stores.events.fill({key: [2, 3]}) == 1  # 3 is taken: the entry stays
    again = await stores.events.append([entry(2, "b"), entry(4, "d")])
    assert [e.event.event_id for e in again.collisions] == ["b"]
    assert [e.event.event_id for e in (await stores.events.after({key: 0}))[key]] == ["a", "c", "d"]
    assert [e.seq for e in await stores.events.page(key, 0, 4, limit=2)] == [1, 3]
    assert await stores.events.count(key, 0, 4) == 3
    assert [e.seq for e in (await stores.events.of_users("demo", ["u1"]))[key]] == [1, 3, 4]
    assert await stores.events.visible_head(key, 4) == 4


async def test_the_visible_head_stops_below_a_young_hole(stores: Stores) -> None:
    key = ("demo", "u1")
    await stores.events.append([entry(1, "a"), entry(3, "c"), entry(4, "d")])
    assert await stores.events.visible_head(key, 4) == 1
    assert await stores.events.visible_head(key, 0) == 0
    await stores.events.append([entry(2, "b")])
    assert await stores.events.visible_head(key, 4) == 4
    assert await stores.events.visible_head(key, 3) == 3

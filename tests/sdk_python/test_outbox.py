"""The SQLite outbox on its own: leases, settling, per-user batches (pure file I/O, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from progress_sync_client import DroppedEvent, EventState, Outbox
from progress_sync_client import outbox as outbox_module


def rows(prefix: str, count: int, size: int = 10) -> list[tuple[str, str]]:
    return [(f"{prefix}-{i}", "x" * size) for i in range(count)]


def test_a_claim_leases_one_users_oldest_rows_within_the_limits(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.add("u1", rows("a", 5))
    outbox.add("u2", rows("b", 2))
    outbox.add("u1", rows("c", 1))
    claim = outbox.claim(max_events=4, max_bytes=10_000)
    assert claim is not None
    assert claim.user_id == "u1"
    assert [e.event_id for e in claim.entries] == ["a-0", "a-1", "a-2", "a-3"]
    small = outbox.claim(max_events=500, max_bytes=15)
    assert small is not None
    assert [e.event_id for e in small.entries] == ["a-4"]


def test_leased_rows_are_not_claimed_by_another_sender_until_the_lease_expires(
    tmp_path: Path,
) -> None:
    first = Outbox(tmp_path / "o.sqlite3", owner="one", lease_seconds=30)
    second = Outbox(tmp_path / "o.sqlite3", owner="two", lease_seconds=30)
    first.add("u1", rows("a", 3))
    claim = first.claim(max_events=500, max_bytes=10_000, now=1000.0)
    assert claim is not None
    assert len(claim.entries) == 3
    assert second.claim(max_events=500, max_bytes=10_000, now=1010.0) is None
    stolen = second.claim(max_events=500, max_bytes=10_000, now=1031.0)
    assert stolen is not None
    assert stolen.seqs == claim.seqs


def test_complete_removes_release_hands_back_and_adding_twice_is_a_no_op(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    assert outbox.add("u1", rows("a", 3)) == 3
    assert outbox.add("u1", rows("a", 3)) == 0
    claim = outbox.claim(max_events=2, max_bytes=10_000)
    assert claim is not None
    outbox.complete(claim.entries[:1])
    outbox.release(claim.seqs[1:])
    assert outbox.pending() == 2
    again = outbox.claim(max_events=500, max_bytes=10_000)
    assert again is not None
    assert [e.event_id for e in again.entries] == ["a-1", "a-2"]


def test_drop_user_removes_only_that_users_rows(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.add("erased", rows("a", 2))
    outbox.add("kept", rows("b", 1))
    dropped = outbox.drop_user("erased")
    assert [e.event_id for e in dropped] == ["a-0", "a-1"]
    assert outbox.pending() == 1
    assert outbox.pending("kept") == 1


def test_state_follows_an_event_from_queued_to_settled(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", lease_seconds=60)
    outbox.add("u1", rows("a", 3))
    assert outbox.state("u1", "a-0") == EventState("pending")
    claim = outbox.claim(max_events=2, max_bytes=10_000, now=1000.0)
    assert claim is not None
    assert outbox.state("u1", "a-0", now=1001.0) == EventState("sending")
    assert outbox.state("u1", "a-0", now=1061.0) == EventState("pending")  # the lease expired
    refused = DroppedEvent("u1", "a-1", "rejected", "too many items", "quota", "payload")
    outbox.complete(claim.entries, {"a-1": refused})
    assert outbox.state("u1", "a-0") == EventState("synced")
    assert outbox.state("u1", "a-1") == EventState(
        "rejected", "rejected", "too many items", "quota", "payload"
    )
    outbox.drop_user("u1", "erased")
    assert outbox.state("u1", "a-2") == EventState("rejected", "erased")
    assert outbox.state("u1", "never") is None
    assert outbox.state("other", "a-0") is None


def test_state_forgets_all_but_the_latest_settled_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "SETTLED_KEPT", 3)
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.add("u1", rows("a", 5))
    claim = outbox.claim(max_events=500, max_bytes=10_000)
    assert claim is not None
    outbox.complete(claim.entries)
    assert [outbox.state("u1", f"a-{i}") for i in range(5)] == [None, None] + [
        EventState("synced")
    ] * 3


def test_rows_survive_closing_and_reopening_the_file(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.add("u1", rows("a", 2))
    outbox.claim(max_events=500, max_bytes=10_000)
    outbox.close()
    reopened = Outbox(tmp_path / "o.sqlite3", lease_seconds=0)
    assert reopened.pending() == 2

"""Per-user quotas: which events fit a snapshot, and which would take it past a bound."""

from __future__ import annotations

from shared.domain import Quotas, Snapshot, admit, reduce
from tests.unit.domain.builders import raw_event, record


def item(n: int, content: str | None = None, interaction: str | None = None):
    payload: dict[str, object] = {"contentId": content or f"c-{n}", "status": "in_progress"}
    if interaction is not None:
        payload["interaction"] = {"interactionId": interaction, "state": {"n": n, "pad": "x" * 200}}
    return record(
        raw_event(
            "content.progressed",
            f"2026-11-20T10:{n // 60:02d}:{n % 60:02d}Z",
            payload,
            event_id=f"e-{n}",
        )
    )


def test_items_past_the_quota_are_refused_and_change_nothing() -> None:
    events = [item(n) for n in range(5)]
    admitted, refused = admit(Snapshot.empty("demo", "u1"), events, Quotas(max_items=3))
    assert [e.event_id for e in admitted] == ["e-0", "e-1", "e-2"]
    assert [(r.event.event_id, r.quota, r.field) for r in refused] == [
        ("e-3", "items", "payload.contentId"),
        ("e-4", "items", "payload.contentId"),
    ]
    again = admit(
        reduce(admitted, tenant_id="demo", user_id="u1"), [item(9, "c-1")], Quotas(max_items=3)
    )
    assert again[1] == []


def test_interactions_per_item_are_bounded_but_updates_of_known_ones_pass() -> None:
    events = [item(n, "quiz", f"q-{n}") for n in range(3)]
    quotas = Quotas(max_interactions=2)
    admitted, refused = admit(Snapshot.empty("demo", "u1"), events, quotas)
    assert [r.quota for r in refused] == ["interactions"]
    snapshot = reduce(admitted, tenant_id="demo", user_id="u1")
    update = item(10, "quiz", "q-1")
    assert admit(snapshot, [update], quotas) == ([update], [])


def test_the_encoded_size_is_bounded() -> None:
    events = [item(n, "big", f"i-{n}") for n in range(40)]
    admitted, refused = admit(
        Snapshot.empty("demo", "u1"), events, Quotas(max_snapshot_bytes=64 * 1024 // 16)
    )
    assert refused
    assert {r.quota for r in refused} == {"snapshot_bytes"}
    size = len(reduce(admitted, tenant_id="demo", user_id="u1").to_storage().encode())
    assert size <= 64 * 1024 // 16

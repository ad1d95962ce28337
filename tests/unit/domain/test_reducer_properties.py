"""Properties of the reducer over generated mixed logs (every type, ties, resets, retractions)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.domain import LateEvent, RecordedEvent, Snapshot, apply, reduce, sort_key
from shared.domain.values import STATUS_RANK

from .builders import TENANT, USER, raw_event, record
from .strategies import events, logs

# Modest example counts keep the unit suite fast; set per test, not as a global profile.
modest = settings(max_examples=60, deadline=None)


def fold(log: list[RecordedEvent]) -> Snapshot:
    return reduce(log, tenant_id=TENANT, user_id=USER)


def retractions(log: list[RecordedEvent]) -> list[RecordedEvent]:
    return [e for e in log if e.type == "events.retracted"]


def scoped(event: RecordedEvent) -> bool:
    return bool(getattr(event.event.payload, "content_ids", None))


def without_counters(snapshot: Snapshot) -> dict[str, object]:
    shown = snapshot.to_api()
    shown.pop("eventCount")
    shown.pop("lastUpdated", None)
    return shown


@modest
@given(logs(), st.randoms())
def test_any_permutation_reduces_to_the_same_snapshot(
    log: list[RecordedEvent], rnd: random.Random
) -> None:
    shuffled = rnd.sample(log, len(log))
    assert fold(shuffled) == fold(log)


@modest
@given(logs(min_size=1), st.data())
def test_repeated_events_change_nothing(log: list[RecordedEvent], data: st.DataObject) -> None:
    repeated = data.draw(st.lists(st.sampled_from(log), min_size=1, max_size=10))
    with_repeats = list(log)
    for event in repeated:
        # A retry or redelivery: same client content, possibly received again later.
        again = RecordedEvent.from_json(event.to_json()).model_copy(
            update={"received_at": event.received_at + timedelta(minutes=3)}
        )
        with_repeats.insert(data.draw(st.integers(0, len(with_repeats))), again)
    assert fold(with_repeats) == fold(log)


@modest
@given(logs(retractions=False), st.data())
def test_apply_over_any_split_equals_the_full_fold(
    log: list[RecordedEvent], data: st.DataObject
) -> None:
    ordered = sorted(log, key=sort_key)
    cut = data.draw(st.integers(0, len(ordered)))
    before = fold(ordered[:cut])
    stored = before.to_storage()
    # The projector's path: the snapshot goes through storage between batches.
    after = apply(Snapshot.from_storage(stored), ordered[cut:])
    assert after == fold(ordered)
    assert apply(before, ordered[cut:]) == after
    assert before.to_storage() == stored  # apply did not change its input


@modest
@given(logs(retractions=False), st.data())
def test_apply_in_many_batches_equals_the_full_fold(
    log: list[RecordedEvent], data: st.DataObject
) -> None:
    ordered = sorted(log, key=sort_key)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ordered)), max_size=5)))
    snapshot = Snapshot.empty(TENANT, USER)
    for start, end in zip([0, *cuts], [*cuts, len(ordered)], strict=True):
        snapshot = apply(snapshot, ordered[start:end])
    assert snapshot == fold(ordered)


@modest
@given(logs(min_size=1), st.data())
def test_apply_rejects_an_event_sorting_before_the_last_applied(
    log: list[RecordedEvent], data: st.DataObject
) -> None:
    snapshot = fold(log)
    assert snapshot.last_key is not None
    last_time, _ = snapshot.last_key
    earlier = last_time - timedelta(hours=data.draw(st.integers(0, 30)), seconds=1)
    late = record(
        raw_event(
            "content.rated",
            earlier.isoformat(),
            {"contentId": "x", "rating": "ok"},
            event_id="late",
        )
    )
    stored = snapshot.to_storage()
    with pytest.raises(LateEvent) as raised:
        apply(snapshot, [late])
    assert raised.value.event_id == "late"
    assert snapshot.to_storage() == stored


@modest
@given(
    logs(tag="h", retractions=False),
    events(event_type="progress.reset", suffix="reset"),
    logs(tag="t", retractions=False),
)
def test_a_reset_drops_exactly_the_events_before_it(
    head: list[RecordedEvent], reset: RecordedEvent, tail: list[RecordedEvent]
) -> None:
    log = [*head, reset, *tail]
    full_resets = [e for e in log if e.type == "progress.reset" and not scoped(e)]
    assume(full_resets)
    last_reset = max(full_resets, key=sort_key)
    after_reset = [e for e in log if sort_key(e) > sort_key(last_reset)]
    full = fold(log)
    assert without_counters(full) == without_counters(fold(after_reset))
    assert full.event_count == len(log)
    assert full.last_updated == max(e.occurred_at for e in log)


@modest
@given(logs(retractions=False))
def test_status_never_regresses_along_the_fold(log: list[RecordedEvent]) -> None:
    snapshot = Snapshot.empty(TENANT, USER)
    for event in sorted(log, key=sort_key):
        after = apply(snapshot, [event])
        if event.type != "progress.reset":
            for content_id, item in snapshot.items.items():
                assert STATUS_RANK[after.items[content_id].status] >= STATUS_RANK[item.status]
                if item.completed_at is not None:
                    assert after.items[content_id].completed_at == item.completed_at
        snapshot = after


@modest
@given(logs())
def test_counts_and_storage_round_trip(log: list[RecordedEvent]) -> None:
    snapshot = fold(log)
    assert snapshot.event_count == len(log)
    assert Snapshot.from_storage(snapshot.to_storage()) == snapshot
    if snapshot.streak is not None:
        assert 1 <= snapshot.streak.current <= snapshot.streak.longest


@modest
@given(logs(min_size=1, retractions=False), st.data())
def test_a_retraction_withdraws_exactly_the_events_it_names(
    log: list[RecordedEvent], data: st.DataObject
) -> None:
    named = data.draw(st.lists(st.sampled_from([e.event_id for e in log]), min_size=1))
    retraction = record(
        raw_event(
            "events.retracted",
            "2026-03-01T00:00:00Z",
            {"eventIds": [*named, "arrives-later"]},
            event_id="r",
        )
    )
    kept = [e for e in log if e.event_id not in set(named)]
    withdrawn = fold([*log, retraction])
    assert without_counters(withdrawn) == without_counters(fold(kept))
    assert withdrawn.event_count == len(log) + 1
    later = record(
        raw_event(
            "content.rated",
            "2026-03-02T00:00:00Z",
            {"contentId": "x", "rating": "ok"},
            event_id="arrives-later",
        )
    )
    assert apply(withdrawn, [later]) == fold([*log, retraction, later])
    with pytest.raises(LateEvent):
        apply(fold(log), [retraction])

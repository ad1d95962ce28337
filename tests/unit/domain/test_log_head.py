"""The visible head of a user's log: the rule that keeps a cursor from ever skipping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.domain import LogHead, visible_head

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
BOUND = timedelta(seconds=10)
OLD = NOW - timedelta(seconds=11)
YOUNG = NOW - timedelta(seconds=1)

# A log of up to 30 positions above `known`: each stored young, stored old, or empty.
logs = st.tuples(
    st.integers(min_value=0, max_value=5),
    st.lists(st.sampled_from(["young", "old", "empty"]), max_size=30),
)


def stored_of(known: int, states: list[str]) -> dict[int, datetime]:
    ages = {"young": YOUNG, "old": OLD}
    return {known + n: ages[state] for n, state in enumerate(states, 1) if state != "empty"}


def test_a_young_hole_stops_the_head_below_it() -> None:
    stored = {1: YOUNG, 3: YOUNG, 4: YOUNG}
    assert visible_head(0, 4, stored, NOW, BOUND) == LogHead(1)


def test_a_hole_under_an_old_entry_is_filled_and_passed() -> None:
    stored = {1: OLD, 3: OLD, 4: YOUNG}
    assert visible_head(0, 4, stored, NOW, BOUND) == LogHead(4, (2,))


def test_a_hole_is_as_old_as_the_earliest_write_above_it() -> None:
    stored = {1: OLD, 3: YOUNG, 5: OLD}
    assert visible_head(0, 5, stored, NOW, BOUND) == LogHead(5, (2, 4))


def test_the_head_never_passes_upto_nor_starts_below_known() -> None:
    stored = {6: YOUNG, 7: YOUNG, 8: YOUNG}
    assert visible_head(5, 7, stored, NOW, BOUND) == LogHead(7)
    assert visible_head(5, 5, stored, NOW, BOUND) == LogHead(5)


@given(logs, st.integers(min_value=0, max_value=40))
def test_every_position_up_to_the_head_is_stored_or_to_be_filled(
    log: tuple[int, list[str]], extra: int
) -> None:
    known, states = log
    stored = stored_of(known, states)
    upto = known + extra
    head = visible_head(known, upto, stored, NOW, BOUND)
    assert known <= head.seq <= upto
    assert set(range(known + 1, head.seq + 1)) == set(stored).union(head.fill) & set(
        range(known + 1, head.seq + 1)
    )
    assert not set(head.fill) & set(stored)
    for hole in head.fill:
        assert any(stored[seq] == OLD for seq in stored if seq > hole)


@given(logs)
def test_the_head_stops_only_where_it_must(log: tuple[int, list[str]]) -> None:
    known, states = log
    stored = stored_of(known, states)
    upto = known + len(states)
    head = visible_head(known, upto, stored, NOW, BOUND)
    later = [seq for seq in stored if seq > head.seq]
    if later:  # the next position is empty, and everything above it is young
        assert head.seq + 1 not in stored
        assert all(stored[seq] == YOUNG for seq in later)


@given(logs, st.integers(min_value=1, max_value=35))
def test_storing_more_never_lowers_the_head(log: tuple[int, list[str]], landed: int) -> None:
    known, states = log
    stored = stored_of(known, states)
    upto = known + len(states) + 5
    before = visible_head(known, upto, stored, NOW, BOUND)
    after = visible_head(known, upto, {known + landed: YOUNG, **stored}, NOW, BOUND)
    assert after.seq >= before.seq

"""The gateway's register of open live streams: bounds, wake-ups, the sweep, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence

import pytest

from services.gateway.errors import ApiError
from services.gateway.live_streams import LiveStreams, sweep_streams
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.user_keys import UserKey

ANN: UserKey = ("demo", "ann")
BOB: UserKey = ("demo", "bob")


def test_a_user_past_its_bound_is_refused_and_a_closed_stream_frees_its_slot() -> None:
    streams = LiveStreams(per_user=2, per_process=3)
    with streams.open(ANN, 0), streams.open(ANN, 0):
        with pytest.raises(ApiError) as refused:
            streams.open(ANN, 0).__enter__()
        assert (refused.value.status, refused.value.code) == (429, "too_many_streams")
        with streams.open(BOB, 0), pytest.raises(ApiError):
            streams.open(BOB, 0).__enter__()  # the process's third slot is taken
    with streams.open(ANN, 0):
        assert streams.users() == [ANN]
    assert streams.users() == []


async def test_wake_behind_wakes_only_streams_behind_their_head_or_named() -> None:
    streams = LiveStreams(per_user=5, per_process=10)
    with (
        streams.open(ANN, 4) as current,
        streams.open(ANN, 2) as behind,
        streams.open(BOB, 9) as named,
    ):
        streams.wake_behind({ANN: 4, BOB: 9}, changed={BOB})
        assert [await s.wait(0) for s in (current, behind, named)] == [False, True, True]


async def test_end_all_ends_open_streams_and_refuses_new_ones() -> None:
    streams = LiveStreams(per_user=5, per_process=10)
    with streams.open(ANN, 0) as listener:
        streams.end_all("shutdown")
        assert await listener.wait(1.0)
        assert listener.ending == "shutdown"
    with pytest.raises(ApiError) as refused:
        streams.open(ANN, 0).__enter__()
    assert refused.value.status == 503


async def test_the_sweep_asks_once_for_every_user_and_survives_an_outage() -> None:
    streams = LiveStreams(per_user=5, per_process=10)
    asked: list[list[UserKey]] = []
    twice = asyncio.Event()

    async def positions(keys: Sequence[UserKey]) -> Mapping[UserKey, int]:
        asked.append(list(keys))
        if len(asked) == 1:
            raise StoreUnavailable("down")
        twice.set()
        return {ANN: 7}

    async def erased(keys: Sequence[UserKey]) -> Collection[UserKey]:
        return set()

    with streams.open(ANN, 3) as ann, streams.open(BOB, 0) as bob:
        sweeping = asyncio.create_task(sweep_streams(streams, positions, [erased], 0.01))
        await asyncio.wait_for(twice.wait(), 5)
        sweeping.cancel()
        assert await ann.wait(0)
        assert not await bob.wait(0)
    assert sorted(asked[0]) == [ANN, BOB]

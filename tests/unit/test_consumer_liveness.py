"""Liveness: a batch held past the bound is a stall; waiting for work or between batches is not."""

from __future__ import annotations

from shared.adapters.consumer_liveness import ConsumerLiveness


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_only_a_batch_held_past_the_bound_is_a_stall_and_the_oldest_is_named() -> None:
    clock = Clock()
    liveness = ConsumerLiveness(10, clock)
    assert liveness.stall() is None  # no work in hand: waiting for records is fine
    with liveness.working("a batch of 3 records"):
        clock.now += 4
        with liveness.working("a batch of 1 records"):
            clock.now += 6
            assert liveness.stall() is None  # 10 s is still within the bound
            clock.now += 1
            reason = liveness.stall()
            assert reason is not None
            assert reason.startswith("a batch of 3 records has been in progress for 11 s")
    assert liveness.stall() is None  # the batch ended: progress again

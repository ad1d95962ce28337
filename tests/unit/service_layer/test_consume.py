"""The consumer use case's routing, on fakes: what is acked, rewound, retried, dead-lettered."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shared.domain import Quotas, RecordedEvent
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.deliveries import ConsumedRecord
from shared.service_layer.errors import (
    BrokerUnavailable,
    StoreRejected,
    StoreTimeout,
    StoreUnavailable,
)
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.projection import ConcurrentWriters, Projection, ProjectionReport
from tests.fakes import (
    FixedClock,
    InMemoryDeadLetterStore,
    InMemoryEventLog,
    InMemoryRetryRoutes,
    InMemorySnapshotStore,
    RecordingMetrics,
)
from tests.unit.domain.builders import raw_event, record


def event(n: int) -> RecordedEvent:
    return record(
        raw_event(
            "content.progressed",
            f"2026-11-20T10:00:{n:02d}Z",
            {"contentId": f"c-{n}", "status": "completed"},
            event_id=f"e-{n}",
        )
    )


def consumed(
    value: bytes, offset: int = 0, headers: dict[str, str] | None = None
) -> ConsumedRecord:
    return ConsumedRecord("progress.events", 0, offset, b"demo/u1", value, headers or {})


class Rig:
    """A consumer over fakes, with a projection that raises or reports what a test asks."""

    def __init__(self, raises: Exception | None = None, fail: set[str] | None = None) -> None:
        self.log, self.snapshots = InMemoryEventLog(), InMemorySnapshotStore()
        self.routes, self.letters = InMemoryRetryRoutes(), InMemoryDeadLetterStore()
        projection = _Scripted(self.log, self.snapshots, raises, fail or set())
        router = FailureRouter(self.routes, self.letters, FixedClock())
        self.metrics = RecordingMetrics()
        self.consumer = BatchConsumer(projection, router, self.metrics)


class _Scripted(Projection):
    def __init__(
        self,
        log: InMemoryEventLog,
        snapshots: InMemorySnapshotStore,
        raises: Exception | None,
        fail: set[str],
    ) -> None:
        super().__init__(log, snapshots)
        self.raises = raises
        self.fail = fail

    async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
        if self.raises is not None:
            raise self.raises
        report = await super().project([e for e in events if e.event_id not in self.fail])
        report.failed.extend((e, "injected") for e in events if e.event_id in self.fail)
        return report


async def test_a_clean_batch_is_projected_and_acked() -> None:
    rig = Rig()
    outcome = await rig.consumer.consume(
        [consumed(event(1).to_json()), consumed(event(2).to_json(), 1)]
    )
    assert outcome.ack
    assert outcome.report is not None
    assert [e.event_id for e in outcome.report.applied] == ["e-1", "e-2"]
    assert outcome.routed == []


@pytest.mark.parametrize(
    "outage",
    [StoreUnavailable("down"), BrokerUnavailable("no ack"), ConcurrentWriters("contended")],
)
async def test_an_outage_rewinds_and_spends_no_attempt(outage: Exception) -> None:
    rig = Rig(raises=outage)
    outcome = await rig.consumer.consume([consumed(event(1).to_json())])
    assert not outcome.ack
    assert outcome.pause_seconds > 0
    assert rig.routes.tiers == {}
    assert rig.letters.letters == {}


async def test_an_unexpected_error_rewinds_too_and_backs_off_further() -> None:
    rig = Rig(raises=RecursionError("too deep"))
    first = await rig.consumer.consume([consumed(event(1).to_json())])
    second = await rig.consumer.consume([consumed(event(1).to_json())])
    assert not first.ack
    assert not second.ack
    assert second.pause_seconds > first.pause_seconds
    assert "RecursionError" in (first.error or "")
    assert rig.routes.tiers == {}
    assert rig.letters.letters == {}


async def test_a_failing_dead_letter_write_rewinds_instead_of_acking() -> None:
    rig = Rig()
    rig.letters.unavailable = StoreUnavailable("down")
    outcome = await rig.consumer.consume([consumed(b"not json"), consumed(event(1).to_json(), 1)])
    assert not outcome.ack


async def test_a_refusal_by_the_store_is_dead_lettered_at_once() -> None:
    rig = Rig(raises=StoreRejected("document too large"))
    outcome = await rig.consumer.consume([consumed(event(1).to_json())])
    assert outcome.ack
    ((_letter_id, item),) = rig.letters.letters.items()
    assert item.stored.letter.reason == "refused"
    assert rig.routes.tiers == {}
    assert [p.reason for p in rig.routes.dead_letter_topic] == ["refused"]
    assert [r.kind for r in outcome.routed] == ["dead_letter"]


async def test_a_failed_event_goes_to_the_first_tier_and_the_rest_are_applied() -> None:
    rig = Rig(fail={"e-2"})
    outcome = await rig.consumer.consume(
        [consumed(event(1).to_json()), consumed(event(2).to_json(), 1, {"request-id": "r-1"})]
    )
    assert outcome.ack
    ((tier, parked),) = rig.routes.tiers.items()
    assert tier == 0
    assert parked[0].delivery.request_id == "r-1"
    assert [a.attempt for a in parked[0].attempts] == [1]
    assert (await rig.snapshots.load_many([("demo", "u1")]))[("demo", "u1")].seq == 1


async def test_the_fifth_failure_is_a_dead_letter() -> None:
    rig = Rig(fail={"e-1"})
    history = (
        '[{"attempt": 1, "error": "x", "at": "2026-11-20T10:00:00+00:00"}, '
        + ", ".join(
            f'{{"attempt": {n}, "error": "x", "at": "2026-11-20T10:0{n}:00+00:00"}}'
            for n in (2, 3, 4)
        )
        + "]"
    )
    record_ = consumed(event(1).to_json(), headers={"error-history": history, "attempt": "4"})
    outcome = await rig.consumer.consume([record_])
    assert outcome.ack
    assert rig.routes.tiers == {}
    (item,) = rig.letters.letters.values()
    assert item.stored.letter.reason == "retries_exhausted"
    assert len(item.stored.letter.attempts) == 5


async def test_undecodable_messages_are_dead_lettered_and_the_rest_flow_on() -> None:
    rig = Rig()
    outcome = await rig.consumer.consume([consumed(b"\xff{"), consumed(event(1).to_json(), 1)])
    assert outcome.ack
    (item,) = rig.letters.letters.values()
    assert item.stored.letter.reason == "undecodable"
    assert outcome.report is not None
    assert len(outcome.report.applied) == 1


class _TooBigForTheBound(Projection):
    """Times out whenever it is asked to project more than `fits` events at once."""

    def __init__(self, log: InMemoryEventLog, snapshots: InMemorySnapshotStore, fits: int) -> None:
        super().__init__(log, snapshots)
        self.fits = fits
        self.sizes: list[int] = []

    async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
        self.sizes.append(len(events))
        if len(events) > self.fits:
            raise StoreTimeout("operation exceeded time limit")
        return await super().project(events)


async def test_a_batch_that_keeps_timing_out_is_split_until_it_fits() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    projection = _TooBigForTheBound(log, snapshots, fits=3)
    router = FailureRouter(InMemoryRetryRoutes(), InMemoryDeadLetterStore(), FixedClock())
    consumer = BatchConsumer(projection, router, RecordingMetrics())
    batch = [consumed(event(n).to_json(), n) for n in range(1, 17)]
    outcomes = [await consumer.consume(batch) for _ in range(4)]
    assert [o.ack for o in outcomes] == [False, False, False, True]
    assert max(projection.sizes[-6:]) <= 3
    assert (await snapshots.load_many([("demo", "u1")]))[("demo", "u1")].seq == 16


async def test_events_past_a_quota_are_dead_lettered_and_never_stored() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    routes, letters = InMemoryRetryRoutes(), InMemoryDeadLetterStore()
    projection = Projection(log, snapshots, quotas=Quotas(max_items=2))
    consumer = BatchConsumer(
        projection, FailureRouter(routes, letters, FixedClock()), RecordingMetrics()
    )
    outcome = await consumer.consume([consumed(event(n).to_json(), n) for n in range(1, 4)])
    assert outcome.ack
    assert [item.stored.letter.reason for item in letters.letters.values()] == ["quota"]
    assert sorted(log.entries[("demo", "u1")]) == ["e-1", "e-2"]


async def test_every_outcome_is_counted_once_through_the_metrics_port() -> None:
    """The routed messages of an acked batch and a rewound batch (an outage) alike."""
    rig = Rig(fail={"e-2"})
    acked = await rig.consumer.consume([consumed(event(1).to_json()), consumed(b"x", 1)])
    outage = Rig(raises=StoreUnavailable("down"))
    rewound = await outage.consumer.consume([consumed(event(1).to_json())])
    assert rig.metrics.counted == [("batch_consumed", (acked,))]
    assert [r.kind for r in acked.routed] == ["dead_letter"]
    assert outage.metrics.counted == [("batch_consumed", (rewound,))]
    assert rewound.report is None

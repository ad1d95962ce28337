"""Property: the insights kept change by change equal a full recount over the snapshots.

Random learners get random events (resets and retractions included), are erased, earn
certificates; the catalog course changes (and is recounted, as the catalog job does); and
the consumer sees every learner's changes late, repeated, reordered, and sometimes through
a stale read of an older snapshot. Whatever happened, once every learner's latest change
has been followed, the sums equal the domain's recount of the current snapshots.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import Certificate, Course, RecordedEvent, parse_course, reduce
from shared.domain.insights import (
    CONTENT_SCOPE,
    content_contribution,
    contribution,
    course_insights,
    total,
)
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.insights import Insights
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.ports import LearnerContributions
from shared.service_layer.stored_snapshots import StoredSnapshot
from shared.service_layer.user_keys import UserKey
from tests.fakes import (
    FixedClock,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemoryEventLog,
    InMemoryInsightStore,
    InMemorySnapshotStore,
)
from tests.unit.domain.strategies import logs

TENANT = "demo"
USERS = ["u1", "u2", "u3"]
COURSE = "course-a"
NOW = datetime(2026, 1, 20, tzinfo=UTC)

VERSIONS: list[Course] = [
    parse_course(
        {
            "items": [
                {"contentId": "lesson-1", "kind": "lesson"},
                {"contentId": "quiz-1", "kind": "quiz"},
            ]
        },
        course_id=COURSE,
    ),
    parse_course(
        {
            "items": [
                {"contentId": "video.intro", "kind": "video"},
                {"contentId": "lesson-1", "kind": "lesson", "required": False},
                {"contentId": "$where", "kind": "lesson"},
                {"contentId": "lesson-2", "kind": "lesson"},
            ],
            "certificate": {"minPercentage": 50},
        },
        course_id=COURSE,
    ),
]

writes = st.tuples(
    st.just("events"),
    st.sampled_from(USERS),
    st.integers(0, 10**9).flatmap(lambda n: logs(min_size=1, max_size=8, tag=f"w{n}-")),
)
step = st.one_of(
    writes,
    writes,
    writes,
    st.tuples(st.just("follow"), st.lists(st.sampled_from(USERS), max_size=4)),
    st.tuples(st.just("stale"), st.sampled_from(USERS), st.integers(0, 5)),
    st.tuples(st.just("erase"), st.sampled_from(USERS)),
    st.tuples(st.just("certify"), st.sampled_from(USERS)),
    st.tuples(st.just("catalog"), st.sampled_from([None, 0, 1])),
)


class World:
    """The stores a consumer sees, and every snapshot each learner ever had."""

    def __init__(self) -> None:
        self.logs: dict[str, list[RecordedEvent]] = {user: [] for user in USERS}
        self.history: dict[str, list[StoredSnapshot]] = {user: [] for user in USERS}
        self.log = InMemoryEventLog()
        self.snapshots = InMemorySnapshotStore()
        self.catalog = InMemoryCatalogStore()
        self.certificates = InMemoryCertificateStore()
        self.store = InMemoryInsightStore()
        self.insights = self.reading(self.snapshots)
        self.erased: set[str] = set()

    def reading(self, snapshots: InMemorySnapshotStore) -> Insights:
        return Insights(
            snapshots, self.catalog, self.certificates, self.store, self.log, FixedClock(NOW)
        )

    def key(self, user: str) -> UserKey:
        return TENANT, user

    async def run(self, action: tuple[Any, ...]) -> None:
        match action:
            case ("events", user, new):
                self.write(user, new)
            case ("follow", users):
                await self.insights.follow([SnapshotChange(TENANT, u, 0) for u in users])
            case ("stale", user, back):
                # A consumer that read an older snapshot writes after a newer one was counted.
                older = self.history[user][-1 - back :][:1]
                if older:
                    stale = InMemorySnapshotStore()
                    stale.snapshots[self.key(user)] = older[0]
                    await self.reading(stale).follow([SnapshotChange(TENANT, user, 0)])
            case ("erase", user):
                # As `MongoUserDataStore.erase`: out of the sums first; no writes after it.
                await self.store.replace([LearnerContributions(TENANT, user, None)], NOW)
                self.erased.add(user)
                self.logs[user] = []
                self.log.entries.pop(self.key(user), None)
                self.snapshots.snapshots.pop(self.key(user), None)
                for certificate in [k for k in self.certificates.certificates if k[1] == user]:
                    del self.certificates.certificates[certificate]
            case ("certify", user):
                await self.certificates.record([Certificate(TENANT, user, COURSE, NOW)])
            case ("catalog", version):
                if version is None:
                    await self.catalog.remove(TENANT, COURSE)
                else:
                    await self.catalog.put(TENANT, VERSIONS[version])
                await self.insights.recount(TENANT, COURSE)

    def write(self, user: str, new: list[RecordedEvent]) -> None:
        if user in self.erased:
            return
        known = {event.event_id for event in self.logs[user]}
        fresh = [e for e in new if e.event_id not in known]
        fresh = [e for e in {e.event_id: e for e in fresh}.values()]
        if not fresh:
            return
        self.logs[user] += fresh
        snapshot = reduce(self.logs[user], tenant_id=TENANT, user_id=user)
        seq = len(self.logs[user])
        stored = StoredSnapshot(snapshot, seq)
        self.snapshots.snapshots[self.key(user)] = stored
        self.history[user].append(stored)
        self.log.entries[self.key(user)] = {
            event.event_id: LogEntry(seq, event) for seq, event in enumerate(self.logs[user], 1)
        }

    async def recount(self) -> tuple[dict[str, float], dict[str, float]]:
        """The domain's recount of the current snapshots: (course sums, content sums)."""
        course = await self.catalog.get(TENANT, COURSE)
        course_parts, content_parts = [], []
        for (_, user), stored in self.snapshots.snapshots.items():
            held = (await self.certificates.of_user(TENANT, user)).get(COURSE)
            if course is not None:
                course_parts.append(contribution(course, stored.snapshot, held))
            content_parts.append(content_contribution(stored.snapshot))
        return total(course_parts), total(content_parts)


async def _scenario(actions: list[tuple[Any, ...]], late: list[tuple[Any, ...]]) -> World:
    world = World()
    await world.catalog.put(TENANT, VERSIONS[0])
    for action in actions:
        await world.run(action)
    # Every committed change is announced at least once: the last one is followed.
    await world.insights.follow([SnapshotChange(TENANT, user, 0) for user in USERS])
    # A consumer that lost its partitions may still write what it read before.
    for action in late:
        await world.run(action)
    # The erase's second sweep takes out what such a late write put back.
    forgotten = [LearnerContributions(TENANT, user, None) for user in sorted(world.erased)]
    await world.store.replace(forgotten, NOW)
    return world


def _close(kept: dict[str, float], recounted: dict[str, float]) -> bool:
    keys = {*kept, *recounted}
    return all(abs(kept.get(k, 0) - recounted.get(k, 0)) < 1e-6 for k in keys)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(step, min_size=3, max_size=16),
    st.lists(st.tuples(st.just("stale"), st.sampled_from(USERS), st.integers(0, 5)), max_size=3),
)
def test_sums_kept_change_by_change_equal_a_recount(
    actions: list[tuple[Any, ...]], late: list[tuple[Any, ...]]
) -> None:
    world = asyncio.run(_scenario(actions, late))
    course_sums, content_sums = asyncio.run(world.recount())
    kept_course = world.store.sums.get((TENANT, COURSE), {})
    kept_content = world.store.sums.get((TENANT, CONTENT_SCOPE), {})
    assert _close(kept_course, course_sums), (kept_course, course_sums)
    assert _close(kept_content, content_sums), (kept_content, content_sums)
    assert asyncio.run(world.insights.differences(TENANT)) == {}
    course = asyncio.run(world.catalog.get(TENANT, COURSE))
    if course is not None:
        today = NOW.date()
        assert course_insights(course, kept_course, 14, today) == course_insights(
            course, course_sums, 14, today
        )

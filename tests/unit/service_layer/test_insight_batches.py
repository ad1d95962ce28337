"""A recount reads what it needs a batch of learners at a time, never one learner at a time.

Read per learner, the certificates alone held `insights rebuild` to about 100 learners/s on
the embedded database (issue 28's bench could not finish 10,000 learners).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from shared.domain import Certificate, parse_course, reduce
from shared.service_layer.insights import Insights
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.stored_snapshots import StoredSnapshot
from tests.fakes import (
    FixedClock,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemoryEventLog,
    InMemoryInsightStore,
    InMemorySnapshotStore,
)
from tests.unit.domain.builders import TENANT, raw_event, record

COURSE = "course-a"
NOW = datetime(2026, 1, 20, tzinfo=UTC)
LEARNERS = 450


class CountedCertificates(InMemoryCertificateStore):
    """Certificates that count the reads made of them."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []

    async def of_user(self, tenant_id: str, user_id: str) -> dict[str, Certificate]:
        self.reads.append(1)
        return await super().of_user(tenant_id, user_id)

    async def of_users(
        self, tenant_id: str, user_ids: Sequence[str]
    ) -> dict[str, dict[str, Certificate]]:
        self.reads.append(len(user_ids))
        return await super().of_users(tenant_id, user_ids)


async def test_a_recount_reads_certificates_once_per_batch_and_counts_them_all() -> None:
    log, snapshots, catalog = InMemoryEventLog(), InMemorySnapshotStore(), InMemoryCatalogStore()
    certificates, store = CountedCertificates(), InMemoryInsightStore()
    course = {"items": [{"contentId": "lesson-1", "kind": "lesson"}]}
    await catalog.put(TENANT, parse_course(course, course_id=COURSE))
    for n in range(LEARNERS):
        user = f"u{n}"
        payload = {"contentId": "lesson-1", "status": "completed"}
        event = record(raw_event("content.progressed", "2026-01-10T10:00:00Z", payload), user=user)
        log.entries[TENANT, user] = {event.event.event_id: LogEntry(1, event)}
        snapshots.snapshots[TENANT, user] = StoredSnapshot(
            reduce([event], tenant_id=TENANT, user_id=user), 1
        )
        if n % 3 == 0:
            await certificates.record([Certificate(TENANT, user, COURSE, NOW)])
    insights = Insights(snapshots, catalog, certificates, store, log, FixedClock(NOW))

    assert await insights.recount(TENANT, None) == LEARNERS

    assert certificates.reads == [200, 200, 50]
    sums = (await store.totals(TENANT, COURSE)).counts
    assert (sums["started"], sums["certified"]) == (LEARNERS, LEARNERS // 3)

"""In-memory fakes of every port, held to the same contract tests as the MongoDB and Kafka ones."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from shared.domain import (
    CatalogTotals,
    Certificate,
    Course,
    QuotaUsage,
    RecordedEvent,
    Snapshot,
    usage_of,
    visible_head,
)
from shared.domain.insights import CONTENT_SCOPE, FUNNEL_KEYS, difference
from shared.domain.tenants import (
    ApiKeyGrant,
    KeySummary,
    StoredKey,
    TenantRecord,
    TenantSummary,
)
from shared.service_layer.catalog_job_records import (
    ACTIVE_STATES,
    CatalogJob,
    CourseChange,
    JobState,
)
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.consistency import ReadYourWrites, SnapshotWatcher
from shared.service_layer.consume import BatchOutcome
from shared.service_layer.dead_letter_records import (
    PENDING,
    REPLAYED,
    DeadLetter,
    LetterFilter,
    StoredLetter,
)
from shared.service_layer.deliveries import Attempt, Delivery
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.insight_following import ChangesFollowed
from shared.service_layer.log_entries import AppendResult, LogEntry
from shared.service_layer.ports import CourseFunnel, InsightTotals, LearnerContributions
from shared.service_layer.stored_snapshots import SnapshotUpdate, StoredSnapshot
from shared.service_layer.topic_messages import TopicMessage
from shared.service_layer.user_keys import UserKey
from shared.service_layer.xapi.ports import (
    Attachment,
    DocumentKey,
    StatementRecord,
    StoredDocument,
    Usage,
)
from shared.xapi import StatementQuery, XapiProfile, matches


class FixedClock:
    """A clock that tells the time it is set to; `advance` moves it on."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class RecordingMetrics:
    """Keeps every outcome it is asked to count, in order: (the port's method, its arguments)."""

    def __init__(self) -> None:
        self.counted: list[tuple[str, tuple[object, ...]]] = []

    def of(self, method: str) -> list[tuple[object, ...]]:
        """The arguments of every call to `method`."""
        return [arguments for name, arguments in self.counted if name == method]

    def batch_consumed(self, outcome: BatchOutcome) -> None:
        self.counted.append(("batch_consumed", (outcome,)))

    def batch_projected(self, outcome: BatchOutcome, batch_seconds: float) -> None:
        self.counted.append(("batch_projected", (outcome, batch_seconds)))

    def delivery_retried(
        self, tier: str, outcome: BatchOutcome, seconds_in_retry: float | None
    ) -> None:
        self.counted.append(("delivery_retried", (tier, outcome, seconds_in_retry)))

    def changes_followed(
        self, outcome: ChangesFollowed, batch_seconds: float, announced_ms: Sequence[int]
    ) -> None:
        self.counted.append(("changes_followed", (outcome, batch_seconds, list(announced_ms))))

    def events_answered(self, outcome: str, type_names: Iterable[str | None]) -> None:
        self.counted.append(("events_answered", (outcome, list(type_names))))


class InMemoryEventLog:
    """An event log in a dict: unique eventId and unique seq per user, like the real one.

    Fillers live beside the entries (`fillers`), and every taken position's write time in
    `written`, so the visible head follows the same rule as the real log's.
    """

    def __init__(self, hole_bound: timedelta = timedelta(seconds=10)) -> None:
        self.entries: dict[UserKey, dict[str, LogEntry]] = {}
        self.fillers: dict[UserKey, set[int]] = {}
        self.written: dict[UserKey, dict[int, datetime]] = {}
        self.heads: dict[UserKey, int] = {}
        self._hole_bound = hole_bound

    def _take(self, key: UserKey, seq: int) -> bool:
        """Take the position if it is free (the unique (t, u, s) index)."""
        taken = self.written.setdefault(key, {})
        if seq in taken:
            return False
        taken[seq] = datetime.now(UTC)
        return True

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        result = AppendResult()
        for entry in entries:
            key = (entry.event.tenant_id, entry.event.user_id)
            user_log = self.entries.setdefault(key, {})
            if entry.event.event_id in user_log:
                result.duplicates.append(entry)
            elif not self._take(key, entry.seq):
                result.collisions.append(entry)
            else:
                user_log[entry.event.event_id] = entry
                result.inserted.append(entry)
        return result

    def forget(self, key: UserKey) -> tuple[int, int]:
        """Erase the user's log, fillers and head: how many positions and heads it held."""
        self.fillers.pop(key, None)
        self.entries.pop(key, None)
        return len(self.written.pop(key, {})), int(self.heads.pop(key, None) is not None)

    async def fill(self, positions: Mapping[UserKey, Sequence[int]]) -> int:
        filled = 0
        for key, seqs in positions.items():
            for seq in seqs:
                if self._take(key, seq):
                    self.fillers.setdefault(key, set()).add(seq)
                    filled += 1
        return filled

    async def visible_head(self, key: UserKey, upto: int) -> int:
        known = min(self.heads.get(key, 0), upto)
        head = visible_head(
            known, upto, self.written.get(key, {}), datetime.now(UTC), self._hole_bound
        )
        await self.fill({key: head.fill})
        self.heads[key] = max(known, head.seq)
        return head.seq

    async def find_many(
        self, event_ids: Mapping[UserKey, Sequence[str]]
    ) -> dict[UserKey, dict[str, LogEntry]]:
        found: dict[UserKey, dict[str, LogEntry]] = {}
        for key, ids in event_ids.items():
            user_log = self.entries.get(key, {})
            entries = {event_id: user_log[event_id] for event_id in ids if event_id in user_log}
            if entries:
                found[key] = entries
        return found

    def _ordered(self, key: UserKey) -> list[LogEntry]:
        return sorted(self.entries.get(key, {}).values(), key=lambda e: e.seq)

    async def after(self, positions: Mapping[UserKey, int]) -> dict[UserKey, list[LogEntry]]:
        found: dict[UserKey, list[LogEntry]] = {}
        for key, seq in positions.items():
            later = [e for e in self._ordered(key) if e.seq > seq]
            if later:
                found[key] = later
        return found

    async def page(self, key: UserKey, after_seq: int, upto_seq: int, limit: int) -> list[LogEntry]:
        return [e for e in self._ordered(key) if after_seq < e.seq <= upto_seq][:limit]

    async def count(self, key: UserKey, after_seq: int, upto_seq: int) -> int:
        return sum(after_seq < e.seq <= upto_seq for e in self._ordered(key))

    async def of_users(self, tenant: str, users: Sequence[str]) -> dict[UserKey, list[LogEntry]]:
        return {
            (tenant, user): self._ordered((tenant, user))
            for user in users
            if self.entries.get((tenant, user))
        }

    async def users(self, tenant: str | None, user: str | None) -> list[UserKey]:
        return sorted(
            key
            for key, entries in self.entries.items()
            if entries and (tenant is None or key[0] == tenant) and (user is None or key[1] == user)
        )


class InMemorySnapshotStore:
    """Snapshots in a dict, with the same optimistic check on the applied seq."""

    def __init__(self) -> None:
        self.snapshots: dict[UserKey, StoredSnapshot] = {}

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        return {key: self.snapshots[key] for key in keys if key in self.snapshots}

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        stale: set[UserKey] = set()
        for update in updates:
            current = self.snapshots.get(update.key)
            seen = (current.seq, current.version) if current else (0, 0)
            if seen != (update.expected_seq, update.expected_version):
                stale.add(update.key)
                continue
            self.snapshots[update.key] = StoredSnapshot(
                update.snapshot,
                update.seq,
                size=len(update.encoded),
                version=update.expected_version + 1,
            )
        return stale

    async def positions(self, keys: Sequence[UserKey]) -> dict[UserKey, int]:
        return {key: self.snapshots[key].seq if key in self.snapshots else 0 for key in keys}

    async def usage(self, keys: Sequence[UserKey]) -> dict[UserKey, QuotaUsage]:
        found: dict[UserKey, QuotaUsage] = {}
        for key in keys:
            stored = self.snapshots.get(key)
            if stored is None:
                found[key] = QuotaUsage(0, 0, 0)
            else:
                snapshot = stored.snapshot
                found[key] = usage_of(snapshot, len(snapshot.to_storage()))
        return found

    async def count_of(self, tenant: str) -> int:
        return sum(1 for stored_tenant, _ in self.snapshots if stored_tenant == tenant)

    async def walk(
        self, tenant: str, after: str | None, page: int
    ) -> AsyncGenerator[list[Snapshot]]:
        found = [
            stored.snapshot
            for (stored_tenant, user), stored in sorted(self.snapshots.items())
            if stored_tenant == tenant and (after is None or user > after)
        ]
        for first in range(0, len(found), page):
            yield found[first : first + page]


class InMemoryPublisher:
    """Keeps what was published, in order; `unavailable` makes every publish fail."""

    def __init__(self) -> None:
        self.published: list[tuple[RecordedEvent, str]] = []
        self.unavailable: Exception | None = None

    async def publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        if self.unavailable is not None:
            raise self.unavailable
        self.published.extend((event, request_id) for event in events)


class InMemoryChangeAnnouncer:
    """Keeps the announcements, in order; `unavailable` makes every announcement fail."""

    def __init__(self) -> None:
        self.announced: list[SnapshotChange] = []
        self.unavailable: Exception | None = None

    async def announce(self, changes: Sequence[SnapshotChange]) -> None:
        if self.unavailable is not None:
            raise self.unavailable
        self.announced.extend(changes)


@dataclass
class Parked:
    """A message put on a retry tier or the dead-letter topic."""

    delivery: Delivery
    attempts: list[Attempt]
    tier: int | None = None
    due_at: datetime | None = None
    reason: str | None = None


class InMemoryRetryRoutes:
    """Retry tiers and the dead-letter topic as lists."""

    def __init__(self) -> None:
        self.tiers: dict[int, list[Parked]] = {}
        self.dead_letter_topic: list[Parked] = []
        self.unavailable: Exception | None = None

    async def to_tier(
        self, tier: int, delivery: Delivery, attempts: Sequence[Attempt], due_at: datetime
    ) -> None:
        if self.unavailable is not None:
            raise self.unavailable
        self.tiers.setdefault(tier, []).append(Parked(delivery, list(attempts), tier, due_at))

    async def to_dead_letter_topic(
        self, delivery: Delivery, reason: str, attempts: Sequence[Attempt]
    ) -> None:
        if self.unavailable is not None:
            raise self.unavailable
        self.dead_letter_topic.append(Parked(delivery, list(attempts), reason=reason))


class InMemoryRepublisher:
    """Keeps republished messages."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes | None, str | None]] = []

    async def republish(self, raw: bytes, key: bytes | None, request_id: str | None) -> None:
        self.sent.append((raw, key, request_id))


@dataclass
class _Letter:
    stored: StoredLetter
    order: int = 0


class InMemoryDeadLetterStore:
    """Dead letters in a dict keyed by letter id; the first stored copy wins."""

    def __init__(self, clock: FixedClock | None = None) -> None:
        self.letters: dict[str, _Letter] = {}
        self._clock = clock or FixedClock()
        self.unavailable: Exception | None = None

    async def add(self, letter: DeadLetter) -> str:
        if self.unavailable is not None:
            raise self.unavailable
        letter_id = letter.letter_id
        if letter_id not in self.letters:
            stored = StoredLetter(letter_id, letter, self._clock.now(), PENDING, 0, None)
            self.letters[letter_id] = _Letter(stored, len(self.letters))
        return letter_id

    async def holds(self, key: UserKey, event_ids: Sequence[str]) -> bool:
        wanted = set(event_ids)
        return any(
            (item.stored.letter.tenant_id, item.stored.letter.user_id) == key
            and item.stored.letter.event_id in wanted
            for item in self.letters.values()
        )

    def _matching(self, selection: LetterFilter) -> list[StoredLetter]:
        def wanted(stored: StoredLetter) -> bool:
            letter = stored.letter
            return (
                selection.tenant_id in (None, letter.tenant_id)
                and (selection.since is None or stored.failed_at >= selection.since)
                and selection.event_type in (None, letter.event_type)
                and selection.state in (None, stored.state)
            )

        found = [item for item in self.letters.values() if wanted(item.stored)]
        found.sort(key=lambda item: (item.stored.failed_at, item.order), reverse=True)
        return [item.stored for item in found]

    async def count(self, selection: LetterFilter | None = None) -> int:
        return len(self._matching(selection or LetterFilter()))

    async def find(self, selection: LetterFilter, limit: int = 0) -> list[StoredLetter]:
        found = self._matching(selection)
        return found[:limit] if limit else found

    async def get(self, letter_id: str) -> StoredLetter | None:
        item = self.letters.get(letter_id)
        return item.stored if item else None

    async def mark_replayed(self, letter_id: str) -> bool:
        item = self.letters.get(letter_id)
        if item is None:
            return False
        stored = item.stored
        item.stored = replace(
            stored, state=REPLAYED, replays=stored.replays + 1, replayed_at=self._clock.now()
        )
        return True

    async def delete(self, letter_ids: Sequence[str]) -> int:
        return sum(self.letters.pop(letter_id, None) is not None for letter_id in letter_ids)

    async def delete_matching(self, selection: LetterFilter) -> int:
        return await self.delete([stored.letter_id for stored in self._matching(selection)])


class InMemoryCatalogStore:
    """Courses per tenant in a dict, stored as JSON like the real store, with kept versions."""

    def __init__(self) -> None:
        self.courses: dict[tuple[str, str], str] = {}
        self.revisions: dict[tuple[str, str], int] = {}
        self.kept_versions: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def _of(self, tenant_id: str) -> list[Course]:
        return [
            Course.model_validate_json(body)
            for (tenant, _), body in sorted(self.courses.items())
            if tenant == tenant_id
        ]

    async def get(self, tenant_id: str, course_id: str) -> Course | None:
        body = self.courses.get((tenant_id, course_id))
        return None if body is None else Course.model_validate_json(body)

    async def page(self, tenant_id: str, after: str | None, limit: int) -> list[Course]:
        courses = [c for c in self._of(tenant_id) if after is None or c.course_id > after]
        return courses[:limit]

    async def touching(
        self, tenant_id: str, content_ids: Sequence[str], course_ids: Sequence[str]
    ) -> list[Course]:
        wanted = set(content_ids)
        return [
            course
            for course in self._of(tenant_id)
            if course.course_id in course_ids or wanted & {i.content_id for i in course.items}
        ]

    async def totals(self, tenant_id: str) -> CatalogTotals:
        courses = self._of(tenant_id)
        return CatalogTotals(len(courses), sum(len(c.required_items) for c in courses))

    async def put(self, tenant_id: str, course: Course) -> tuple[int, bool]:
        key = (tenant_id, course.course_id)
        previous = self.courses.get(key)
        revision = self.revisions.get(key, 0) + 1
        if previous is not None:
            self.kept_versions.setdefault(key, []).append((revision - 1, previous))
        self.courses[key] = course.model_dump_json()
        self.revisions[key] = revision
        return revision, previous is None

    async def kept(self, tenant_id: str, course_ids: Sequence[str]) -> dict[str, list[Course]]:
        return {
            course_id: [Course.model_validate_json(body) for _, body in versions]
            for course_id in course_ids
            if (versions := self.kept_versions.get((tenant_id, course_id)))
        }

    async def drop_kept(self, tenant_id: str, course_id: str, below: int) -> None:
        key = (tenant_id, course_id)
        self.kept_versions[key] = [v for v in self.kept_versions.get(key, []) if v[0] >= below]

    async def remove(self, tenant_id: str, course_id: str) -> int | None:
        key = (tenant_id, course_id)
        previous = self.courses.pop(key, None)
        if previous is None:
            return None
        self.kept_versions.setdefault(key, []).append((self.revisions[key], previous))
        self.revisions[key] += 1
        return self.revisions[key]


class InMemoryCertificateStore:
    """Certificates; the first recorded one of a (tenant, user, course) wins."""

    def __init__(self) -> None:
        self.certificates: dict[tuple[str, str, str], Certificate] = {}

    async def of_user(self, tenant_id: str, user_id: str) -> dict[str, Certificate]:
        return {
            course: certificate
            for (tenant, user, course), certificate in self.certificates.items()
            if (tenant, user) == (tenant_id, user_id)
        }

    async def of_users(
        self, tenant_id: str, user_ids: Sequence[str]
    ) -> dict[str, dict[str, Certificate]]:
        wanted = set(user_ids)
        found: dict[str, dict[str, Certificate]] = {}
        for (tenant, user, course), certificate in self.certificates.items():
            if tenant == tenant_id and user in wanted:
                found.setdefault(user, {})[course] = certificate
        return found

    async def record(self, certificates: Sequence[Certificate]) -> int:
        new = 0
        for certificate in certificates:
            key = (certificate.tenant_id, certificate.user_id, certificate.course_id)
            if key not in self.certificates:
                self.certificates[key] = certificate
                new += 1
        return new


class InMemoryInsightStore:
    """Contributions and sums in dicts, with the real store's cursor rule and differences."""

    def __init__(self) -> None:
        self.contributions: dict[tuple[str, str, str], tuple[int, dict[str, float]]] = {}
        self.sums: dict[tuple[str, str], dict[str, float]] = {}
        self.as_of: dict[tuple[str, str], datetime] = {}
        self.unavailable: Exception | None = None

    async def replace(self, learners: Sequence[LearnerContributions], now: datetime) -> int:
        changed = 0
        for learner in learners:
            tenant, user = learner.tenant_id, learner.user_id
            before = {
                scope: stored
                for (t, u, scope), stored in self.contributions.items()
                if (t, u) == (tenant, user) and learner.only in (None, scope)
            }
            after = dict(learner.scopes)
            if learner.only is not None:
                after = {learner.only: learner.scopes.get(learner.only, {})}
            if learner.cursor is not None and any(s > learner.cursor for s, _ in before.values()):
                continue
            moved = False
            for scope in {*before, *after}:
                counts = dict(after.get(scope, {}))
                delta = difference(before[scope][1] if scope in before else {}, counts)
                sums = self.sums.setdefault((tenant, scope), {})
                for key, amount in delta.items():
                    sums[key] = sums.get(key, 0) + amount
                if delta:
                    self.as_of[(tenant, scope)] = now
                    moved = True
                if learner.cursor is not None:
                    self.contributions[(tenant, user, scope)] = (learner.cursor, counts)
                else:
                    self.contributions.pop((tenant, user, scope), None)
            changed += moved
        return changed

    async def forget(self, tenant_id: str, user_id: str) -> int:
        stored = [k for k in self.contributions if k[:2] == (tenant_id, user_id)]
        await self.replace([LearnerContributions(tenant_id, user_id, None)], datetime.now(UTC))
        return len(stored)

    async def totals(self, tenant_id: str, scope: str) -> InsightTotals:
        sums = self.sums.get((tenant_id, scope), {})
        counts = {key: value for key, value in sums.items() if value != 0}
        return InsightTotals(counts, self.as_of.get((tenant_id, scope)))

    async def most_started(self, limit: int) -> list[CourseFunnel]:
        if self.unavailable is not None:
            raise self.unavailable
        funnels = [
            CourseFunnel(tenant, scope, *(int(sums.get(k, 0)) for k in FUNNEL_KEYS))
            for (tenant, scope), sums in self.sums.items()
            if scope != CONTENT_SCOPE and sums.get("started", 0) > 0
        ]
        funnels.sort(key=lambda f: (-f.started, f.tenant_id, f.course_id))
        return funnels[: max(limit, 0)]


class InMemoryParkedMessages:
    """Parked messages in a dict keyed by message id, in the order they were parked."""

    def __init__(self) -> None:
        self.messages: dict[str, TopicMessage] = {}
        self.unavailable: Exception | None = None

    async def park(self, messages: Sequence[TopicMessage]) -> int:
        if self.unavailable is not None:
            raise self.unavailable
        new = [m for m in dict.fromkeys(messages) if m.message_id not in self.messages]
        self.messages.update((message.message_id, message) for message in new)
        return len(new)

    async def all(self) -> list[TopicMessage]:
        return list(self.messages.values())

    async def remove(self, message_ids: Sequence[str]) -> int:
        return sum(self.messages.pop(message_id, None) is not None for message_id in message_ids)


class InMemoryTopicBacklog:
    """Topics as lists with a committed position per (topic, group); publishing appends."""

    def __init__(self) -> None:
        self.topics: dict[str, list[TopicMessage]] = {}
        self.committed: dict[tuple[str, str], int] = {}
        self.fail_after: int | None = None
        self.published = 0

    async def unconsumed(self, topic: str, group: str) -> list[TopicMessage]:
        return self.topics.get(topic, [])[self.committed.get((topic, group), 0) :]

    async def publish(self, messages: Sequence[TopicMessage]) -> None:
        for message in messages:
            if self.fail_after is not None and self.published >= self.fail_after:
                raise BrokerUnavailable("the fake broker stopped acknowledging")
            self.topics.setdefault(message.topic, []).append(message)
            self.published += 1


class InMemoryUserDataStore:
    """Erases a user from the in-memory stores it was given; keeps the audit entries."""

    def __init__(
        self,
        events: InMemoryEventLog,
        snapshots: InMemorySnapshotStore,
        letters: InMemoryDeadLetterStore,
        certificates: InMemoryCertificateStore,
        checkpoints: InMemoryRebuildCheckpoints | None = None,
        snapshot_checkpoints: InMemorySnapshotCheckpoints | None = None,
        written: InMemoryWrittenEvents | None = None,
        merges: InMemoryMergePointers | None = None,
        parked: InMemoryParkedMessages | None = None,
        statements: InMemoryStatementStore | None = None,
        state: InMemoryDocumentStore | None = None,
        profiles: InMemoryDocumentStore | None = None,
        usage: InMemoryUsageStore | None = None,
        catalog_jobs: InMemoryCatalogJobStore | None = None,
        insights: InMemoryInsightStore | None = None,
    ) -> None:
        self._catalog_jobs = catalog_jobs or InMemoryCatalogJobStore()
        self._events = events
        self._snapshots = snapshots
        self._letters = letters
        self._certificates = certificates
        self._checkpoints = checkpoints or InMemoryRebuildCheckpoints()
        self._snapshot_checkpoints = snapshot_checkpoints or InMemorySnapshotCheckpoints()
        self._written = written or InMemoryWrittenEvents()
        self._merges = merges or InMemoryMergePointers()
        self._parked = parked or InMemoryParkedMessages()
        self._statements = statements or InMemoryStatementStore()
        self._state = state or InMemoryDocumentStore()
        self._profiles = profiles or InMemoryDocumentStore()
        self._usage = usage or InMemoryUsageStore()
        self._insights = insights or InMemoryInsightStore()
        self.audits: list[dict[str, object]] = []

    async def erase(self, tenant_id: str, user_id: str) -> dict[str, int]:
        key = (tenant_id, user_id)
        letters = [
            letter_id
            for letter_id, item in self._letters.letters.items()
            if (item.stored.letter.tenant_id, item.stored.letter.user_id) == key
        ]
        certificates = [k for k in self._certificates.certificates if k[:2] == key]
        for certificate in certificates:
            del self._certificates.certificates[certificate]
        runs = [run for run, (last, _) in self._checkpoints.runs.items() if last == key]
        for run in runs:
            del self._checkpoints.runs[run]
        parked = [i for i, message in self._parked.messages.items() if message.owner == key]
        statements, attachments = self._statements.forget(key)
        positions, heads = self._events.forget(key)
        return {
            "events": positions,
            "log_heads": heads,
            "snapshots": int(self._snapshots.snapshots.pop(key, None) is not None),
            "dead_letters": await self._letters.delete(letters),
            "certificates": len(certificates),
            "snapshot_checkpoints": len(self._snapshot_checkpoints.kept.pop(key, {})),
            "consistency_writes": self._written.forget(key),
            "merges": self._merges.forget(key),
            "parked_messages": await self._parked.remove(parked),
            "rebuild_runs": len(runs),
            "xapi_statements": statements,
            "xapi_usage": self._usage.forget(key),
            "xapi_attachments": attachments,
            "xapi_state": self._state.forget(key),
            "xapi_profiles": self._profiles.forget(key),
            "catalog_jobs": self._catalog_jobs.forget(key),
            "insight_contributions": await self._insights.forget(tenant_id, user_id),
        }

    async def audit(self, action: str, tenant_id: str, counts: Mapping[str, int]) -> None:
        self.audits.append(
            {"action": action, "tenant": tenant_id, "deleted": json.loads(json.dumps(counts))}
        )


@dataclass
class InMemoryRebuildCheckpoints:
    """Rebuild runs' progress in a dict."""

    runs: dict[str, tuple[UserKey | None, bool]] = field(default_factory=dict)

    async def last_done(self, run_id: str) -> UserKey | None:
        last, done = self.runs.get(run_id, (None, True))
        return None if done else last

    async def save(
        self, run_id: str, last: UserKey | None, *, done: bool, started: datetime
    ) -> None:
        self.runs[run_id] = (last, done)


@dataclass
class InMemoryImportCheckpoints:
    """Import runs' finished line counts in a dict."""

    runs: dict[str, int] = field(default_factory=dict)

    async def lines_done(self, run_id: str) -> int:
        return self.runs.get(run_id, 0)

    async def save(self, run_id: str, lines: int, *, at: datetime) -> None:
        self.runs[run_id] = lines


class InMemoryTombstoneStore:
    """Erased users in a set (the real store keeps only a keyed hash)."""

    def __init__(self) -> None:
        self.buried: set[UserKey] = set()
        self.sweeps: dict[UserKey, datetime | None] = {}

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        return {key for key in keys if key in self.buried}

    async def second_sweep_due(
        self, tenant_id: str, user_id: str, due: datetime
    ) -> datetime | None:
        key = (tenant_id, user_id)
        if key not in self.buried:
            return None
        return self.sweeps.setdefault(key, due)

    async def second_sweep_done(self, tenant_id: str, user_id: str) -> None:
        self.sweeps[(tenant_id, user_id)] = None

    async def bury(self, tenant_id: str, user_id: str) -> None:
        self.buried.add((tenant_id, user_id))

    async def exhume(self, tenant_id: str, user_id: str) -> bool:
        found = (tenant_id, user_id) in self.buried
        self.buried.discard((tenant_id, user_id))
        self.sweeps.pop((tenant_id, user_id), None)
        return found


def _before(stored: StoredSnapshot, bound: tuple[datetime, str]) -> bool:
    last = stored.snapshot.last_key
    return last is not None and last < bound


class InMemorySnapshotCheckpoints:
    """Checkpoints per user in a dict of seq → snapshot."""

    def __init__(self) -> None:
        self.kept: dict[UserKey, dict[int, StoredSnapshot]] = {}

    async def latest(
        self, bounds: Mapping[UserKey, tuple[int, tuple[datetime, str] | None]]
    ) -> dict[UserKey, StoredSnapshot]:
        found: dict[UserKey, StoredSnapshot] = {}
        for key, (top, before) in bounds.items():
            usable = [
                stored
                for seq, stored in self.kept.get(key, {}).items()
                if seq <= top and (before is None or _before(stored, before))
            ]
            if usable:
                found[key] = max(usable, key=lambda stored: stored.seq)
        return found

    async def invalidate(self, key: UserKey, since: tuple[datetime, str]) -> None:
        kept = self.kept.get(key, {})
        for seq in [seq for seq, stored in kept.items() if not _before(stored, since)]:
            del kept[seq]

    async def save(self, key: UserKey, stored: StoredSnapshot, keep: int) -> None:
        kept = self.kept.setdefault(key, {})
        kept[stored.seq] = stored
        for seq in sorted(kept, reverse=True)[keep:]:
            del kept[seq]


class InMemoryWrittenEvents:
    """Large writes' eventIds in a dict."""

    def __init__(self) -> None:
        self.writes: dict[str, tuple[UserKey, list[str]]] = {}
        self.until: dict[str, datetime] = {}

    async def put(
        self, reference: str, key: UserKey, event_ids: Sequence[str], until: datetime
    ) -> None:
        self.writes[reference] = (key, list(event_ids))
        self.until[reference] = until

    async def get(self, reference: str) -> tuple[UserKey, list[str]] | None:
        if reference in self.until and self.until[reference] < datetime.now(UTC):
            return None
        return self.writes.get(reference)

    def forget(self, key: UserKey) -> int:
        gone = [reference for reference, (owner, _) in self.writes.items() if owner == key]
        for reference in gone:
            del self.writes[reference]
        return len(gone)


class InMemoryMergePointers:
    """Guest → account pointers in a dict."""

    def __init__(self) -> None:
        self.pointers: dict[UserKey, str] = {}
        self.moving: dict[UserKey, tuple[str, int]] = {}

    async def point(self, tenant_id: str, guest_id: str, account_id: str) -> None:
        self.pointers[(tenant_id, guest_id)] = account_id

    async def target(self, tenant_id: str, guest_id: str) -> str | None:
        return self.pointers.get((tenant_id, guest_id))

    async def moved_through(self, tenant_id: str, guest_id: str, account_id: str) -> int:
        to, through = self.moving.get((tenant_id, guest_id), ("", 0))
        return through if to == account_id else 0

    async def advance(self, tenant_id: str, guest_id: str, account_id: str, seq: int) -> None:
        self.moving[(tenant_id, guest_id)] = (account_id, seq)

    def forget(self, key: UserKey) -> int:
        gone = [g for g, into in self.pointers.items() if g == key or (g[0], into) == key]
        for guest in gone:
            del self.pointers[guest]
        moving = [g for g, (to, _) in self.moving.items() if g == key or (g[0], to) == key]
        for guest in moving:
            del self.moving[guest]
        return len(set(gone) | set(moving))


class InMemoryStatementStore:
    """xAPI statements and attachment data in dicts, filtered with `shared.xapi.matches`."""

    def __init__(self) -> None:
        self.statements: dict[tuple[str, str], StatementRecord] = {}
        self.kept: dict[tuple[str, str, str], tuple[str | None, Attachment]] = {}

    async def get_many(self, tenant_id: str, ids: Sequence[str]) -> dict[str, StatementRecord]:
        found = (self.statements.get((tenant_id, sid)) for sid in ids)
        return {record.statement_id: record for record in found if record is not None}

    async def insert(self, tenant_id: str, records: Sequence[StatementRecord]) -> set[str]:
        taken = set()
        for record in records:
            key = (tenant_id, record.statement_id)
            if key in self.statements:
                taken.add(record.statement_id)
            else:
                self.statements[key] = copy.deepcopy(record)
        return taken

    async def void(self, tenant_id: str, statement_id: str) -> None:
        key = (tenant_id, statement_id)
        if key in self.statements:
            self.statements[key] = replace(self.statements[key], voided=True)

    async def find(
        self,
        tenant_id: str,
        query: StatementQuery,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[StatementRecord]:
        def position(record: StatementRecord) -> tuple[datetime, str]:
            return (record.stored, record.statement_id)

        chosen = [
            copy.deepcopy(record)
            for (tenant, _), record in self.statements.items()
            if tenant == tenant_id
            and not record.voided
            and (query.learner is None or record.user_id == query.learner)
            and (
                matches(record.statement, query)
                or (record.target is not None and matches(record.target, query))
            )
            and (query.since is None or record.stored > query.since)
            and (query.until is None or record.stored <= query.until)
            and (
                after is None
                or (position(record) > after if query.ascending else position(record) < after)
            )
        ]
        chosen.sort(key=position, reverse=not query.ascending)
        return chosen[:limit]

    async def put_attachments(
        self, tenant_id: str, user_id: str | None, attachments: Sequence[Attachment]
    ) -> None:
        for item in attachments:
            self.kept.setdefault((tenant_id, user_id or "", item.sha2), (user_id, item))

    async def attachment_sizes(self, tenant_id: str, sha2s: Sequence[str]) -> dict[str, int]:
        found = await self.attachments(tenant_id, sha2s)
        return {sha2: len(item.data) for sha2, item in found.items()}

    async def attachments(self, tenant_id: str, sha2s: Sequence[str]) -> dict[str, Attachment]:
        return {
            item.sha2: item
            for (tenant, _, sha2), (_, item) in self.kept.items()
            if tenant == tenant_id and sha2 in sha2s
        }

    def forget(self, key: UserKey) -> tuple[int, int]:
        statements = [k for k, record in self.statements.items() if (k[0], record.user_id) == key]
        for gone in statements:
            del self.statements[gone]
        kept = [k for k, (user, _) in self.kept.items() if (k[0], user) == key]
        for gone_kept in kept:
            del self.kept[gone_kept]
        return len(statements), len(kept)


class InMemoryUsageStore:
    """Running totals per (tenant, quota owner) in a dict."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str], tuple[str | None, Usage]] = {}

    async def usage(self, tenant_id: str, owner: str) -> Usage:
        return self.totals.get((tenant_id, owner), (None, Usage()))[1]

    async def add(self, tenant_id: str, owner: str, user_id: str | None, change: Usage) -> None:
        user, now = self.totals.get((tenant_id, owner), (user_id, Usage()))
        self.totals[(tenant_id, owner)] = (
            user,
            Usage(
                now.statements + change.statements,
                now.documents + change.documents,
                now.attachment_bytes + change.attachment_bytes,
            ),
        )

    def forget(self, key: UserKey) -> int:
        gone = [k for k, (user, _) in self.totals.items() if (k[0], user) == key]
        for owner in gone:
            del self.totals[owner]
        return len(gone)


class InMemoryDocumentStore:
    """xAPI State or profile documents in a dict, with the same compare-and-set as the real one."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, DocumentKey], tuple[str | None, StoredDocument]] = {}

    async def get(self, tenant_id: str, key: DocumentKey) -> StoredDocument | None:
        found = self.documents.get((tenant_id, key))
        return None if found is None else found[1]

    async def put(
        self,
        tenant_id: str,
        key: DocumentKey,
        user_id: str | None,
        document: StoredDocument,
        expected_etag: str | None,
    ) -> bool:
        current = self.documents.get((tenant_id, key))
        if (current[1].etag if current else None) != expected_etag:
            return False
        self.documents[(tenant_id, key)] = (user_id, document)
        return True

    def _context(
        self, tenant_id: str, activity_id: str, agent: str, registration: str | None
    ) -> list[tuple[str, DocumentKey]]:
        return [
            (tenant, key)
            for tenant, key in self.documents
            if (tenant, key.activity_id, key.agent, key.registration)
            == (tenant_id, activity_id, agent, registration)
        ]

    async def ids(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        since: datetime | None,
    ) -> list[str]:
        return sorted(
            key.document_id
            for found in self._context(tenant_id, activity_id, agent, registration)
            if since is None or self.documents[found][1].updated > since
            for key in (found[1],)
        )

    async def delete(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        document_id: str | None,
    ) -> int:
        gone = [
            found
            for found in self._context(tenant_id, activity_id, agent, registration)
            if document_id is None or found[1].document_id == document_id
        ]
        for found in gone:
            del self.documents[found]
        return len(gone)

    def forget(self, key: UserKey) -> int:
        gone = [k for k, (user, _) in self.documents.items() if (k[0], user) == key]
        for found in gone:
            del self.documents[found]
        return len(gone)


class InMemoryCatalogJobStore:
    """Catalog jobs in a dict, with the same lease and ownership rules as the real store."""

    def __init__(self) -> None:
        self.jobs: dict[str, CatalogJob] = {}
        self.leases: dict[str, tuple[str, datetime]] = {}

    async def enqueue(self, change: CourseChange, now: datetime) -> CatalogJob:
        job_id = f"{change.tenant_id}/{change.course_id}@{change.revision}"
        for other in list(self.jobs.values()):
            same = (other.change.tenant_id, other.change.course_id)
            if same == (change.tenant_id, change.course_id) and other.state in ACTIVE_STATES:
                self.jobs[other.job_id] = replace(other, state=JobState.SUPERSEDED)
        job = CatalogJob(job_id, change, JobState.QUEUED, 0, 0, None, now, None, now, 0)
        self.jobs[job_id] = job
        return job

    async def take(self, worker: str, now: datetime, lease: timedelta) -> CatalogJob | None:
        for job in sorted(self.jobs.values(), key=lambda job: job.queued_at):
            expired = job.job_id not in self.leases or self.leases[job.job_id][1] < now
            if job.state is JobState.QUEUED or (job.state is JobState.RUNNING and expired):
                taken = replace(
                    job,
                    state=JobState.RUNNING,
                    attempts=job.attempts + 1,
                    started_at=job.started_at or now,
                )
                self.jobs[job.job_id] = taken
                self.leases[job.job_id] = (worker, now + lease)
                return taken
        return None

    def _owned(self, job: CatalogJob, worker: str) -> bool:
        current = self.jobs[job.job_id]
        owner = self.leases.get(job.job_id, ("", None))[0]
        return current.state is JobState.RUNNING and owner == worker

    async def checkpoint(
        self,
        job: CatalogJob,
        worker: str,
        *,
        last_user: str | None,
        done: int,
        total: int,
        lease_until: datetime,
    ) -> bool:
        if not self._owned(job, worker):
            return False
        current = self.jobs[job.job_id]
        self.jobs[job.job_id] = replace(current, last_user=last_user, done=done, total=total)
        self.leases[job.job_id] = (worker, lease_until)
        return True

    async def end(
        self, job: CatalogJob, worker: str, state: JobState, error: str | None = None
    ) -> bool:
        if not self._owned(job, worker):
            return False
        self.jobs[job.job_id] = replace(self.jobs[job.job_id], state=state, error=error)
        return True

    async def release(self, job: CatalogJob, worker: str) -> None:
        if self._owned(job, worker):
            self.leases[job.job_id] = (worker, datetime(1970, 1, 1, tzinfo=UTC))

    async def recent(self, tenant_id: str | None, limit: int) -> list[CatalogJob]:
        found = [j for j in self.jobs.values() if tenant_id in (None, j.change.tenant_id)]
        return sorted(found, key=lambda job: job.queued_at, reverse=True)[:limit]

    def forget(self, key: UserKey) -> int:
        """Clear the checkpoints at this user (the jobs start over); return how many."""
        at_user = [
            job for job in self.jobs.values() if (job.change.tenant_id, job.last_user) == key
        ]
        for job in at_user:
            self.jobs[job.job_id] = replace(job, last_user=None, done=0)
        return len(at_user)


@dataclass
class _Tenant:
    created_at: datetime
    secret: str
    keys: list[StoredKey]
    profile: XapiProfile | None = None


class InMemoryTenantStore:
    """Tenants in a dict of id → record, its current keys and its xAPI profile."""

    def __init__(self, *records: TenantRecord) -> None:
        self.tenants: dict[str, _Tenant] = {
            r.tenant_id: _Tenant(r.created_at, r.signing_secret, list(r.keys)) for r in records
        }

    async def insert(self, tenant: TenantRecord) -> bool:
        if tenant.tenant_id in self.tenants:
            return False
        self.tenants[tenant.tenant_id] = _Tenant(
            tenant.created_at, tenant.signing_secret, list(tenant.keys)
        )
        return True

    async def summaries(self) -> list[TenantSummary]:
        return [_tenant_summary(t, self.tenants[t]) for t in sorted(self.tenants)]

    async def summary(self, tenant_id: str) -> TenantSummary | None:
        tenant = self.tenants.get(tenant_id)
        return None if tenant is None else _tenant_summary(tenant_id, tenant)

    async def grant_for_hash(self, key_hash: str) -> ApiKeyGrant | None:
        for tenant_id, tenant in self.tenants.items():
            for key in tenant.keys:
                if key.key_hash == key_hash:
                    return ApiKeyGrant(tenant_id, frozenset(key.scopes), key.key_id)
        return None

    async def add_key(self, tenant_id: str, key: StoredKey) -> bool:
        tenant = self.tenants.get(tenant_id)
        if tenant is not None:
            tenant.keys.append(key)
        return tenant is not None

    async def replace_key(self, tenant_id: str, key: StoredKey) -> bool:
        keys = self.tenants[tenant_id].keys if tenant_id in self.tenants else []
        at = next((n for n, old in enumerate(keys) if old.key_id == key.key_id), None)
        if at is not None:
            keys[at] = key
        return at is not None

    async def replace_all_keys(self, tenant_id: str, key: StoredKey) -> bool:
        tenant = self.tenants.get(tenant_id)
        if tenant is not None:
            tenant.keys = [key]
        return tenant is not None

    async def signing_secret(self, tenant_id: str) -> str | None:
        tenant = self.tenants.get(tenant_id)
        return None if tenant is None else tenant.secret

    async def set_signing_secret(self, tenant_id: str, secret: str) -> bool:
        tenant = self.tenants.get(tenant_id)
        if tenant is not None:
            tenant.secret = secret
        return tenant is not None

    async def xapi_profile(self, tenant_id: str) -> XapiProfile | None:
        tenant = self.tenants.get(tenant_id)
        return None if tenant is None else tenant.profile or XapiProfile()

    async def set_xapi_profile(self, tenant_id: str, profile: XapiProfile) -> bool:
        tenant = self.tenants.get(tenant_id)
        if tenant is not None:
            tenant.profile = profile
        return tenant is not None


def _tenant_summary(tenant_id: str, tenant: _Tenant) -> TenantSummary:
    keys = tuple(KeySummary(key.key_id, key.scopes, key.created_at) for key in tenant.keys)
    return TenantSummary(tenant_id, tenant.created_at, keys)


class CountingEventLog(InMemoryEventLog):
    """The in-memory log, counting the entries `after` hands out (what replays read)."""

    def __init__(self) -> None:
        super().__init__()
        self.read = 0

    async def after(self, positions: Mapping[UserKey, int]) -> dict[UserKey, list[LogEntry]]:
        found = await super().after(positions)
        self.read += sum(len(entries) for entries in found.values())
        return found


class HookedEventLog:
    """An in-memory log whose next append first runs `before_next_append` (once), if set.

    Lets a test put another writer's work between a projection's read and its append.
    """

    def __init__(
        self,
        inner: InMemoryEventLog,
        before_next_append: Callable[[], Awaitable[object] | None] | None = None,
    ) -> None:
        self._inner = inner
        self.before_next_append = before_next_append
        self.find_many = inner.find_many
        self.after = inner.after
        self.page = inner.page
        self.fill = inner.fill
        self.visible_head = inner.visible_head

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        if self.before_next_append is not None:
            hook, self.before_next_append = self.before_next_append, None
            if (pending := hook()) is not None:
                await pending
        return await self._inner.append(entries)


def consistency_over_fakes(snapshots: InMemorySnapshotStore) -> ReadYourWrites:
    """Consistency tokens and waits over an in-memory log and these snapshots, fixed clock."""
    return ReadYourWrites(
        InMemoryEventLog(),
        SnapshotWatcher(snapshots),
        InMemoryWrittenEvents(),
        [b"k"],
        clock=FixedClock(),
    )

"""What is kept about users beside their log: catalog, certificates, erasure, merges, tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from shared.domain import (
    CatalogTotals,
    Certificate,
    Course,
)
from shared.service_layer.user_keys import UserKey

__all__ = [
    "CatalogStore",
    "CertificateStore",
    "ImportCheckpoints",
    "MergePointers",
    "RebuildCheckpoints",
    "TombstoneLedger",
    "TombstoneStore",
    "UserDataStore",
    "WrittenEvents",
]


class CatalogStore(Protocol):
    """Course definitions per tenant; a course is replaced whole."""

    async def get(self, tenant_id: str, course_id: str) -> Course | None:
        """The course, or None."""
        ...

    async def page(self, tenant_id: str, after: str | None, limit: int) -> list[Course]:
        """At most `limit` courses ordered by courseId, after `after` (None: from the first)."""
        ...

    async def touching(
        self, tenant_id: str, content_ids: Sequence[str], course_ids: Sequence[str]
    ) -> list[Course]:
        """The courses listing one of `content_ids` or being one of `course_ids`."""
        ...

    async def totals(self, tenant_id: str) -> CatalogTotals:
        """How many courses the tenant has, and their required items summed."""
        ...

    async def put(self, tenant_id: str, course: Course) -> tuple[int, bool]:
        """Store the course as its next revision, keeping the version it replaces.

        Returns the revision (1 for a course never stored) and whether the catalog lacked it.
        """
        ...

    async def kept(self, tenant_id: str, course_ids: Sequence[str]) -> dict[str, list[Course]]:
        """The replaced versions a job has yet to judge, per course, oldest first.

        Courses with none are left out.
        """
        ...

    async def drop_kept(self, tenant_id: str, course_id: str, below: int) -> None:
        """Drop the course's kept versions older than revision `below` (a job judged them)."""
        ...

    async def remove(self, tenant_id: str, course_id: str) -> int | None:
        """Remove the course as its next revision, keeping its last version; None if absent.

        Reads no longer find the course; its kept versions stay until a job judged them.
        """
        ...


class CertificateStore(Protocol):
    """Earned certificates; each is written once and never changed."""

    async def of_user(self, tenant_id: str, user_id: str) -> dict[str, Certificate]:
        """The user's certificates by courseId."""
        ...

    async def of_users(
        self, tenant_id: str, user_ids: Sequence[str]
    ) -> dict[str, dict[str, Certificate]]:
        """Several users' certificates by userId, then courseId (a user with none is left out).

        One read for a page of learners, where `of_user` per learner costs a round trip each.
        """
        ...

    async def record(self, certificates: Sequence[Certificate]) -> int:
        """Record those not recorded yet (first write wins); return how many were new."""
        ...


class UserDataStore(Protocol):
    """Everything stored about a user, for erasure."""

    async def erase(self, tenant_id: str, user_id: str) -> dict[str, int]:
        """Delete the user's documents everywhere; return how many each collection lost."""
        ...

    async def audit(self, action: str, tenant_id: str, counts: Mapping[str, int]) -> None:
        """Record an audit entry (never with a user id)."""
        ...


class TombstoneStore(Protocol):
    """Which users were erased, remembered by a keyed hash of their id only."""

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The users among `keys` that were erased (and not re-enabled)."""
        ...

    async def bury(self, tenant_id: str, user_id: str) -> None:
        """Remember that the user was erased; idempotent."""
        ...

    async def exhume(self, tenant_id: str, user_id: str) -> bool:
        """Forget the erasure, so the id may be used again; False if it was not erased."""
        ...


class TombstoneLedger(TombstoneStore, Protocol):
    """Tombstones as `progressctl erase` uses them: with the erase's second sweep recorded."""

    async def second_sweep_due(
        self, tenant_id: str, user_id: str, due: datetime
    ) -> datetime | None:
        """When the erasure's second sweep is due; None once it is done (or nobody is buried).

        The first run records `due`; a re-run of a crashed erase gets that recorded time back.
        """
        ...

    async def second_sweep_done(self, tenant_id: str, user_id: str) -> None:
        """Record that the erasure's second sweep ran, so a re-run does not wait for it."""
        ...


class WrittenEvents(Protocol):
    """The eventIds of writes too large to name in a consistency token, for a while."""

    async def put(
        self, reference: str, key: UserKey, event_ids: Sequence[str], until: datetime
    ) -> None:
        """Keep the write's eventIds under `reference` until `until` (its token's expiry)."""
        ...

    async def get(self, reference: str) -> tuple[UserKey, list[str]] | None:
        """The write's user and eventIds, or None (unknown or expired)."""
        ...


class MergePointers(Protocol):
    """Where merged guests went: guest → account, per tenant."""

    async def point(self, tenant_id: str, guest_id: str, account_id: str) -> None:
        """Record that the guest was merged into the account (the latest merge wins)."""
        ...

    async def target(self, tenant_id: str, guest_id: str) -> str | None:
        """The account the guest was merged into, or None."""
        ...

    async def moved_through(self, tenant_id: str, guest_id: str, account_id: str) -> int:
        """The guest's log position up to which its events moved to this account (0: none)."""
        ...

    async def advance(self, tenant_id: str, guest_id: str, account_id: str, seq: int) -> None:
        """Record that the guest's events up to `seq` moved to this account."""
        ...


class RebuildCheckpoints(Protocol):
    """Progress of resumable rebuild runs, one per scope."""

    async def last_done(self, run_id: str) -> UserKey | None:
        """The last user an unfinished run completed, or None (no run, or it finished)."""
        ...

    async def save(
        self, run_id: str, last: UserKey | None, *, done: bool, started: datetime
    ) -> None:
        """Record a run's progress."""
        ...


class ImportCheckpoints(Protocol):
    """Progress of resumable state imports, one run per tenant and file content."""

    async def lines_done(self, run_id: str) -> int:
        """How many lines of the run are finished (0: no run yet)."""
        ...

    async def save(self, run_id: str, lines: int, *, at: datetime) -> None:
        """Record that the run's first `lines` lines are finished."""
        ...

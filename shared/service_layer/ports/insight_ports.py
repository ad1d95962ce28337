"""Where the course insights are kept: each learner's contributions and their running sums."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

__all__ = ["CourseFunnel", "InsightStore", "InsightTotals", "LearnerContributions"]


@dataclass(frozen=True, slots=True)
class LearnerContributions:
    """A learner's contributions as of their snapshot at log position `cursor`.

    Attributes:
        tenant_id: The learner's tenant.
        user_id: The learner.
        cursor: The snapshot's log position; None when the learner has no snapshot (erased),
            which removes their contributions whatever they were stored at.
        scopes: Counts per scope (a courseId, or `CONTENT_SCOPE`); a scope left out counts
            nothing.
        only: Replace only this scope's contribution (a course recount); None: every scope.
    """

    tenant_id: str
    user_id: str
    cursor: int | None
    scopes: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    only: str | None = None


@dataclass(frozen=True, slots=True)
class InsightTotals:
    """A scope's sums, and when they last changed (None: never)."""

    counts: dict[str, float]
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class CourseFunnel:
    """A course's learners who started it, completed it and hold its certificate (its sums)."""

    tenant_id: str
    course_id: str
    started: int
    completed: int
    certified: int


class InsightStore(Protocol):
    """Contributions per (tenant, learner, scope) with their cursor, and per-scope sums.

    The sums always equal the sum of the stored contributions.
    """

    async def replace(self, learners: Sequence[LearnerContributions], now: datetime) -> int:
        """Store the contributions, adding their differences to the sums, atomically.

        A learner whose stored contribution reflects a later cursor is left alone (a late
        or repeated change never goes back); replacing with the same counts adds nothing.
        Returns how many learners' contributions changed.
        """
        ...

    async def totals(self, tenant_id: str, scope: str) -> InsightTotals:
        """The sums of one scope (a courseId, or `CONTENT_SCOPE`)."""
        ...

    async def most_started(self, limit: int) -> list[CourseFunnel]:
        """The `limit` courses, across tenants, the most learners started, most first.

        Ties go by tenant, then course; a course nobody has started (any more) is left out.
        One read of the sums, whatever the number of learners: what the course gauges of
        the insights consumer refresh from.
        """
        ...

"""Course insights: what one learner adds to a course's figures, and the figures themselves.

The one place these rules are written. A learner's *contribution* to a course is a bag of
additive counts (`Counts`), derived from their snapshot, the catalog course and their
certificate; a course's figures are the sum of every learner's contribution. The insights
consumer keeps that sum by adding the `difference` between a learner's new and stored
contribution; a recount sums `contribution` over every snapshot. Both end in `insights_of`,
so the two can only differ if a change was lost or counted twice.

What is counted (per learner and course):

- `started`: some course item is at least `in_progress`; `completed`: every required item
  is done as the catalog counts it (`course_views.done_at`); `certified`: a certificate is
  recorded, or a `course.completed` claim is eligible under the course's rule.
- Per item: started (at least `in_progress`), completed (`completed` or `passed`), passed;
  quiz items: attempts, whether passed, best score; media items: watched seconds, whether
  watched to 90 % (the reducer's `completed`).
- The furthest item: the last item in course order that is started. A learner who has not
  completed the course is counted under (furthest item, last active UTC day), so the
  drop-off for any `inactiveDays` is a sum over days. The last active day is the latest
  `lastActivityAt` of the course's items.
- A completer's time to complete: from the first activity on a course item to the moment
  the last required item became done, to three significant digits, counted per value so
  the median is a walk over sorted values.

The tenant's content figures (`content_contribution`) count, per item of the snapshot,
whether it is started and completed, whatever course lists it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import Course
from .course_view_models import Certificate
from .course_views import done_at, eligible_claim
from .snapshot import ItemProgress, Snapshot
from .values import COMPLETE_STATUSES, STATUS_RANK

__all__ = [
    "CONTENT_SCOPE",
    "FUNNEL_KEYS",
    "MAX_INACTIVE_DAYS",
    "MAX_TOP",
    "ContentInsight",
    "Counts",
    "CourseInsights",
    "ItemInsight",
    "content_contribution",
    "content_insights",
    "contribution",
    "course_insights",
    "difference",
    "total",
]

Counts = dict[str, float]
"""Additive counts by key (`started`, `item.started:<contentId>`, ...); see the module doc."""

CONTENT_SCOPE = ""
"""The scope of a learner's content contribution (no courseId is empty)."""

FUNNEL_KEYS = ("started", "completed", "certified")
"""A course's learner counts, in funnel order (what `contribution` counts once per learner)."""

MAX_INACTIVE_DAYS = 365
"""Largest `inactiveDays` a drop-off may ask for."""

MAX_TOP = 100
"""Most items `content_insights` lists."""

_STARTED = STATUS_RANK["in_progress"]


def _item_key(name: str, content_id: str) -> str:
    return f"{name}:{content_id}"


def _drop_key(day: date, content_id: str) -> str:
    return f"dropOff:{day.isoformat()}:{content_id}"


def _seconds_key(seconds: float) -> str:
    return f"seconds:{float(f'{max(seconds, 0.0):.3g}')!r}"


def _started(progress: ItemProgress | None) -> bool:
    return progress is not None and STATUS_RANK[progress.status] >= _STARTED


def contribution(course: Course, snapshot: Snapshot, certificate: Certificate | None) -> Counts:
    """One learner's counts for one course; empty when they have not started it.

    Args:
        course: The catalog's current definition.
        snapshot: The learner's snapshot.
        certificate: The learner's recorded certificate of this course, if any.
    """
    counts: Counts = {}
    items = [(item, snapshot.items.get(item.content_id)) for item in course.items]
    started = [item for item, progress in items if _started(progress)]
    if not started:
        return counts
    counts["started"] = 1
    finished = [done_at(item, progress) for item, progress in items if item.required]
    completed = all(moment is not None for moment in finished)
    counts["completed"] = int(completed)
    certified = certificate is not None or eligible_claim(course, snapshot) is not None
    counts["certified"] = int(certified)
    for item, progress in items:
        if progress is not None:
            _count_item(counts, item.content_id, progress)
    active = [p.last_activity_at for _, p in items if p is not None and p.last_activity_at]
    if completed:
        first = [p.first_activity_at for _, p in items if p is not None and p.first_activity_at]
        last_done = max(moment for moment in finished if moment is not None)
        if first:
            counts[_seconds_key((last_done - min(first)).total_seconds())] = 1
    elif active:
        counts[_drop_key(max(active).date(), started[-1].content_id)] = 1
    return _nonzero(counts)


def _count_item(counts: Counts, content_id: str, progress: ItemProgress) -> None:
    """Add one item's per-item counts (started, completed, passed, quiz, media)."""
    counts[_item_key("started", content_id)] = int(_started(progress))
    counts[_item_key("completed", content_id)] = int(progress.status in COMPLETE_STATUSES)
    counts[_item_key("passed", content_id)] = int(progress.status == "passed")
    if progress.quiz is not None:
        counts[_item_key("quizLearners", content_id)] = 1
        counts[_item_key("quizAttempts", content_id)] = progress.quiz.attempts
        counts[_item_key("quizPassed", content_id)] = int(progress.status == "passed")
        counts[_item_key("quizBestScore", content_id)] = progress.quiz.best_score
    if progress.media is not None:
        counts[_item_key("mediaLearners", content_id)] = 1
        counts[_item_key("mediaWatchedSeconds", content_id)] = progress.media.watched_seconds
        counts[_item_key("mediaCompleted", content_id)] = int(progress.status in COMPLETE_STATUSES)


def content_contribution(snapshot: Snapshot) -> Counts:
    """One learner's counts for the tenant's content: each item started, and completed."""
    counts: Counts = {}
    for content_id, progress in snapshot.items.items():
        if _started(progress):
            counts[_item_key("started", content_id)] = 1
            counts[_item_key("completed", content_id)] = int(progress.status in COMPLETE_STATUSES)
    return _nonzero(counts)


def difference(old: Mapping[str, float], new: Mapping[str, float]) -> dict[str, float]:
    """What to add to the totals when a learner's contribution goes from `old` to `new`.

    Keys whose count does not change are left out (a repeated change adds nothing).
    """
    changed = {key: new.get(key, 0) - old.get(key, 0) for key in {*old, *new}}
    return {key: delta for key, delta in changed.items() if delta != 0}


def total(contributions: Iterable[Mapping[str, float]]) -> Counts:
    """The sum of contributions: a course's totals as a recount finds them."""
    summed: Counts = {}
    for counts in contributions:
        for key, count in counts.items():
            summed[key] = summed.get(key, 0) + count
    return _nonzero(summed)


def _nonzero(counts: Counts) -> Counts:
    return {key: count for key, count in counts.items() if count != 0}


@dataclass(frozen=True, slots=True)
class ItemInsight:
    """One course item's figures, in course order."""

    content_id: str
    kind: str
    started: int
    completed: int
    passed: int
    drop_off: int
    quiz: dict[str, float] | None
    media: dict[str, float] | None


@dataclass(frozen=True, slots=True)
class CourseInsights:
    """A course's figures: learners, items in course order, and the median time to complete."""

    course_id: str
    started: int
    completed: int
    certified: int
    items: list[ItemInsight]
    median_seconds_to_complete: float | None
    inactive_days: int


def course_insights(
    course: Course, totals: Mapping[str, float], inactive_days: int, today: date
) -> CourseInsights:
    """Shape a course's totals into its figures.

    Args:
        course: The catalog's current definition (gives the items and their order).
        totals: The sum of the learners' contributions.
        inactive_days: Drop-off counts learners last active at least this many UTC days
            before `today` (1 to `MAX_INACTIVE_DAYS`).
        today: The reader's UTC day.
    """
    cutoff = today - timedelta(days=inactive_days)
    drops: Counter[str] = Counter()
    for key, count in totals.items():
        if key.startswith("dropOff:"):
            _, day, content_id = key.split(":", 2)
            if date.fromisoformat(day) <= cutoff:
                drops[content_id] += int(count)
    items = [
        ItemInsight(
            content_id=item.content_id,
            kind=item.kind,
            started=_whole(totals, _item_key("started", item.content_id)),
            completed=_whole(totals, _item_key("completed", item.content_id)),
            passed=_whole(totals, _item_key("passed", item.content_id)),
            drop_off=drops[item.content_id],
            quiz=_quiz(totals, item.content_id),
            media=_media(totals, item.content_id),
        )
        for item in course.items
    ]
    return CourseInsights(
        course_id=course.course_id,
        started=_whole(totals, "started"),
        completed=_whole(totals, "completed"),
        certified=_whole(totals, "certified"),
        items=items,
        median_seconds_to_complete=_median_seconds(totals),
        inactive_days=inactive_days,
    )


def _whole(totals: Mapping[str, float], key: str) -> int:
    return int(totals.get(key, 0))


def _quiz(totals: Mapping[str, float], content_id: str) -> dict[str, float] | None:
    learners = totals.get(_item_key("quizLearners", content_id), 0)
    if learners <= 0:
        return None
    return {
        "attempts": _whole(totals, _item_key("quizAttempts", content_id)),
        "passRate": _ratio(totals.get(_item_key("quizPassed", content_id), 0), learners),
        "meanBestScore": _ratio(totals.get(_item_key("quizBestScore", content_id), 0), learners),
    }


def _media(totals: Mapping[str, float], content_id: str) -> dict[str, float] | None:
    learners = totals.get(_item_key("mediaLearners", content_id), 0)
    if learners <= 0:
        return None
    return {
        "meanWatchedSeconds": _ratio(
            totals.get(_item_key("mediaWatchedSeconds", content_id), 0), learners
        ),
        "completionRate": _ratio(totals.get(_item_key("mediaCompleted", content_id), 0), learners),
    }


def _ratio(part: float, whole: float) -> float:
    """A mean or a rate to 6 decimals.

    Sums kept by adding differences may differ from a recount's in the last bits of a
    float, never in what is shown.
    """
    return round(part / whole, 6)


def _median_seconds(totals: Mapping[str, float]) -> float | None:
    """The median of the completers' times (the lower middle one of an even count)."""
    values = sorted(
        (float(key.removeprefix("seconds:")), int(count))
        for key, count in totals.items()
        if key.startswith("seconds:") and count > 0
    )
    middle = (sum(count for _, count in values) + 1) // 2
    seen = 0
    for seconds, count in values:
        seen += count
        if seen >= middle > 0:
            return seconds
    return None


@dataclass(frozen=True, slots=True)
class ContentInsight:
    """One item of the tenant's most started items."""

    content_id: str
    started: int
    completed: int

    @property
    def completion_rate(self) -> float:
        """Completed over started (0 when nobody started it)."""
        return _ratio(self.completed, self.started) if self.started else 0.0


def content_insights(totals: Mapping[str, float], top: int) -> list[ContentInsight]:
    """The `top` most started items (ties by contentId) from the tenant's content totals."""
    started = {
        key.removeprefix("started:"): int(count)
        for key, count in totals.items()
        if key.startswith("started:") and count > 0
    }
    ranked = sorted(started.items(), key=lambda entry: (-entry[1], entry[0]))[:top]
    return [
        ContentInsight(content_id, count, _whole(totals, _item_key("completed", content_id)))
        for content_id, count in ranked
    ]

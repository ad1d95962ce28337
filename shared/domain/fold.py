"""How each event type changes a snapshot: DESIGN's reduction table, written once.

`Fold` is the mutable builder behind `reducer.reduce` and `reducer.apply`. It must be fed
events in sort-key order (occurredAt, eventId), which is what makes every "latest by
occurredAt" rule simply "the last one applied" and lets the streak grow one day at a time.

Where DESIGN's table is silent, these rules hold:

- An item exists (status `not_started`) once any event names its contentId, a rating or a
  schedule included; only `progress.reset` removes items.
- `lastAttemptAt` is set by `content.progressed` and `quiz.attempted`, not by media reports,
  ratings or schedules. `courseId`, `contentVersion` and `duration` are the latest given.
- Media counts as watched once maxPosition >= 90 % of a known duration above zero; the check
  runs on each media report against the latest duration.
- A quiz attempt does not touch the item's `score` (that is content.progressed's maximum);
  `maxScore` is the latest attempt's.
- `onboarding.completed` sets path and time even when already completed (latest wins);
  `onboarding.reset` leaves `{completed: false}` without path or time.
- A course keeps the time of its first `course.completed` (`completedAt`) and, once claimed
  again, of its latest (`lastClaimedAt`): a claim made too early can be followed by one that
  earns the certificate (see `course_views`).
- `passedAt` dates the first move to `passed` (a quiz can be completed before it is passed);
  a media item's `lastReportedAt` is the occurredAt of its latest report.
- `firstActivityAt` and `lastActivityAt` of an item are the occurredAt of the first and the
  latest event naming its contentId (any type; a retracted event does not count); the course
  insights read them (a learner's last active day, the time from start to completion).
- `progress.reset` with `contentIds` removes only those items (and the claim on its
  `courseId`); without them it clears everything, top-level extensions included.
- `extensions` of an event with a contentId merge into that item's (latest wins per key),
  of any other event into the snapshot's top-level `extensions`; never interpreted.
- `events.retracted` withdraws the events it names: the reducer skips them wherever they
  sort (they still count in `eventCount` and `lastUpdated`); withdrawing is for good.
- The streak counts UTC days with a first completion of some item; `current` is the run that
  ends at `lastActiveDate` (whether that day is still "today" is the reader's business).
  `progress.reset` clears the streak along with all other progress; `eventCount` and
  `lastUpdated` carry on.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from .events import (
    ActivePathSet,
    ContentProgressed,
    ContentRated,
    ContentScheduled,
    CourseCompleted,
    EventsRetracted,
    MediaProgressed,
    OnboardingCompleted,
    OnboardingReset,
    ProgressEvent,
    ProgressReset,
    QuizAttempted,
)
from .payloads import Interaction
from .snapshot import (
    CourseProgress,
    ItemProgress,
    MediaProgress,
    Onboarding,
    QuizProgress,
    Snapshot,
    Streak,
)
from .values import COMPLETE_STATUSES, STATUS_RANK, Status

__all__ = ["Fold"]


class Fold:
    """Applies events, in sort order, to a snapshot it may change.

    The snapshot's `items` and `courses` dicts must belong to the fold; the items in them may
    still be shared with an older snapshot: an item is copied the first time an event touches
    it (copy on write), so an incremental fold costs what the new events touch, not the size
    of the snapshot.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._owned: set[str] = set()
        # Set on every event, so kept here and written to the (slower) model by `finish`.
        self._count = snapshot.event_count
        self._last: ProgressEvent | None = None
        self._streak = snapshot.streak

    def finish(self) -> Snapshot:
        """The snapshot with every event applied so far (more events may still follow)."""
        snapshot = self._snapshot
        snapshot.event_count = self._count
        snapshot.streak = self._streak
        if self._last is not None:
            snapshot.last_updated = self._last.occurred_at
            snapshot.last_event_id = self._last.event_id
        return snapshot

    def apply(self, event: ProgressEvent, *, withdrawn: bool = False) -> None:
        """Fold one event that sorts after every event folded so far.

        A `withdrawn` event (retracted) changes nothing but the count and the last sort key.
        """
        if withdrawn:
            self._count += 1
            self._last = event
            return
        match event:
            case ContentProgressed():
                self._content_progressed(event)
            case MediaProgressed():
                self._media_progressed(event)
            case QuizAttempted():
                self._quiz_attempted(event)
            case ContentRated():
                self._item(event.payload.content_id).rating = event.payload.rating
            case ContentScheduled():
                item = self._item(event.payload.content_id)
                item.scheduled_for = event.payload.scheduled_for
            case CourseCompleted():
                courses = self._snapshot.courses
                first = courses.get(event.payload.course_id)
                courses[event.payload.course_id] = (
                    CourseProgress(completed_at=event.occurred_at)
                    if first is None
                    else CourseProgress(
                        completed_at=first.completed_at, last_claimed_at=event.occurred_at
                    )
                )
            case OnboardingCompleted():
                self._snapshot.onboarding = Onboarding(
                    completed=True, path_id=event.payload.path_id, completed_at=event.occurred_at
                )
            case OnboardingReset():
                self._snapshot.onboarding = Onboarding(completed=False)
            case ActivePathSet():
                self._snapshot.active_path_id = event.payload.path_id
            case ProgressReset():
                self._reset(event)
            case EventsRetracted():
                self._retract(event)
        content_id = getattr(event.payload, "content_id", None)
        if isinstance(content_id, str):
            self._touch(self._item(content_id), event.occurred_at)
        extensions = event.payload.extensions
        if extensions:
            self._extend(event, extensions)
        self._count += 1
        self._last = event

    def _item(self, content_id: str) -> ItemProgress:
        items = self._snapshot.items
        if content_id in self._owned:
            return items[content_id]
        shared = items.get(content_id)
        item = ItemProgress() if shared is None else _copy_item(shared)
        items[content_id] = item
        self._owned.add(content_id)
        return item

    @staticmethod
    def _touch(item: ItemProgress, at: datetime) -> None:
        """Date the item's activity: the first event naming it, and the latest."""
        if item.first_activity_at is None:
            item.first_activity_at = at
        item.last_activity_at = at

    def _content_progressed(self, event: ContentProgressed) -> None:
        payload = event.payload
        item = self._item(payload.content_id)
        self._raise_status(item, payload.status, event.occurred_at)
        if payload.score is not None:
            item.score = payload.score if item.score is None else max(item.score, payload.score)
        if payload.content_version is not None:
            item.content_version = payload.content_version
        if payload.course_id is not None:
            item.course_id = payload.course_id
        if payload.interaction is not None:
            _set_interaction(item, payload.interaction)
        item.last_attempt_at = event.occurred_at

    def _media_progressed(self, event: MediaProgressed) -> None:
        payload = event.payload
        item = self._item(payload.content_id)
        position = payload.position_seconds
        media = item.media
        if media is None:
            media = item.media = MediaProgress(last_position=position, max_position=position)
        else:
            media.last_position = position
            media.max_position = max(media.max_position, position)
        if payload.duration_seconds is not None:
            media.duration = payload.duration_seconds
        if payload.watched_seconds is not None:
            media.watched_seconds += payload.watched_seconds
        media.last_reported_at = event.occurred_at
        if payload.course_id is not None:
            item.course_id = payload.course_id
        duration = media.duration
        # Completed once 90 % is reached; `* 10 >= * 9` keeps integer positions exact.
        watched = duration is not None and duration > 0 and media.max_position * 10 >= duration * 9
        self._raise_status(item, "completed" if watched else "in_progress", event.occurred_at)

    def _quiz_attempted(self, event: QuizAttempted) -> None:
        payload = event.payload
        item = self._item(payload.content_id)
        quiz = item.quiz
        if quiz is None:
            item.quiz = QuizProgress(
                attempts=1,
                best_score=payload.score,
                last_score=payload.score,
                max_score=payload.max_score,
            )
        else:
            quiz.attempts += 1
            quiz.best_score = max(quiz.best_score, payload.score)
            quiz.last_score = payload.score
            quiz.max_score = payload.max_score
        if payload.course_id is not None:
            item.course_id = payload.course_id
        item.last_attempt_at = event.occurred_at
        self._raise_status(item, "passed" if payload.passed else "in_progress", event.occurred_at)

    def _raise_status(self, item: ItemProgress, status: Status, at: datetime) -> None:
        """Move the item's status up to `status` (never down); a first completion is dated."""
        if STATUS_RANK[status] <= STATUS_RANK[item.status]:
            return
        was_complete = item.status in COMPLETE_STATUSES
        item.status = status
        if status == "passed":
            item.passed_at = at
        if status in COMPLETE_STATUSES and not was_complete:
            item.completed_at = at
            self._count_active_day(at.date())

    def _count_active_day(self, day: date) -> None:
        """Count a UTC day on which an item became complete (days arrive in order)."""
        streak = self._streak
        if streak is None:
            self._streak = Streak(current=1, longest=1, last_active_date=day)
            return
        if day == streak.last_active_date:
            return
        current = streak.current + 1 if (day - streak.last_active_date).days == 1 else 1
        self._streak = Streak(
            current=current, longest=max(streak.longest, current), last_active_date=day
        )

    def _reset(self, event: ProgressReset) -> None:
        """Clear all progress, or the named items; eventCount and the last sort key carry on."""
        snapshot = self._snapshot
        scope = event.payload.content_ids
        if scope is not None:
            for content_id in scope:
                snapshot.items.pop(content_id, None)
                self._owned.discard(content_id)
            if event.payload.course_id is not None:
                snapshot.courses.pop(event.payload.course_id, None)
            return
        snapshot.items = {}
        snapshot.courses = {}
        snapshot.onboarding = None
        snapshot.active_path_id = None
        snapshot.extensions = None
        self._streak = None
        self._owned.clear()

    def _retract(self, event: EventsRetracted) -> None:
        """Remember the withdrawn eventIds (the reducer skipped them before folding)."""
        known = set(self._snapshot.retracted or ())
        known.update(event.payload.event_ids)
        self._snapshot.retracted = sorted(known)

    def _extend(self, event: ProgressEvent, extensions: dict[str, Any]) -> None:
        """Merge an event's extensions into its item's, or the user's (latest wins per key)."""
        content_id = getattr(event.payload, "content_id", None)
        if isinstance(content_id, str):
            item = self._item(content_id)
            item.extensions = {**(item.extensions or {}), **extensions}
            return
        snapshot = self._snapshot
        snapshot.extensions = {**(snapshot.extensions or {}), **extensions}


def _copy_item(item: ItemProgress) -> ItemProgress:
    """Copy an item deep enough that the fold may change the copy (states are never changed)."""
    copied = copy.copy(item)
    if item.media is not None:
        copied.media = copy.copy(item.media)
    if item.quiz is not None:
        copied.quiz = copy.copy(item.quiz)
    if item.interactions is not None:
        copied.interactions = dict(item.interactions)
    return copied


def _set_interaction(item: ItemProgress, interaction: Interaction) -> None:
    """Set an interaction's state, or remove it when the state is null."""
    if interaction.state is not None:
        if item.interactions is None:
            item.interactions = {}
        item.interactions[interaction.interaction_id] = interaction.state
    elif item.interactions is not None:
        item.interactions.pop(interaction.interaction_id, None)
        if not item.interactions:
            item.interactions = None

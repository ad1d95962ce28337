// A TypeScript port of the Python reducer (shared/domain/reducer.py and fold.py): a user's
// snapshot as a pure function of the set of their events. Sort by (occurredAt, eventId), keep
// the first event of each eventId, fold. Golden vectors written by the Python suite
// (clients/golden/reducer-vectors.json) keep the two in step.

import type { ProgressEvent } from "./events.generated.js";
import { emptySnapshot, type ItemProgress, type Snapshot, type Status } from "./snapshot.js";
import { apiTime, canonicalTime, daysBetween } from "./time.js";

const RANK: Record<Status, number> = { not_started: 0, in_progress: 1, completed: 2, passed: 3 };
const complete = (status: Status): boolean => RANK[status] >= 2;

/** An event and its canonical occurredAt, the first part of its sort key. */
export type Keyed = [key: string, event: ProgressEvent];

/** Fold order: by canonical time, then by eventId in code-unit order (Python's str order for the BMP). */
export function foldOrder([a, x]: Keyed, [b, y]: Keyed): number {
  return a < b ? -1 : a > b ? 1 : x.eventId < y.eventId ? -1 : x.eventId > y.eventId ? 1 : 0;
}

/** The events with one per eventId (the first given wins), in fold order, keyed by sort key. */
export function ordered(events: readonly ProgressEvent[]): Keyed[] {
  const seen = new Set<string>();
  const keyed: Keyed[] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    keyed.push([canonicalTime(event.occurredAt), event]);
  }
  return keyed.sort(foldOrder);
}

/** Fold a user's whole log into their snapshot, whatever the order and repeats of `events`. */
export function reduce(events: readonly ProgressEvent[], tenantId: string, userId: string): Snapshot {
  return applyEvents(emptySnapshot(tenantId, userId), events);
}

/**
 * Fold `events` onto a copy of `snapshot` in fold order (the input is not changed).
 *
 * Exact when every event sorts after the snapshot's last one (the server's `apply`); an
 * optimistic view folds pending events this way even when one is late, as a best estimate
 * until the server's snapshot includes it. `keyed` is `ordered(events)`, for a caller that
 * has it already.
 */
export function applyEvents(
  snapshot: Snapshot,
  events: readonly ProgressEvent[],
  keyed: readonly Keyed[] = ordered(events),
): Snapshot {
  const next = copyFor(snapshot, events);
  // A retraction withdraws the events it names wherever they sort (they still count).
  const withdrawn = new Set<string>();
  for (const [, event] of keyed) {
    if (event.type === "events.retracted") for (const id of event.payload.eventIds) withdrawn.add(id);
  }
  for (const [at, event] of keyed) {
    if (!(withdrawn.has(event.eventId) && event.type !== "events.retracted")) {
      fold(next, event, at);
      extend(next, event);
    }
    next.eventCount += 1;
    next.lastUpdated = apiTime(at);
  }
  return next;
}

/**
 * A copy of `snapshot` that folding `events` may change without touching the original: the
 * items those events name are deep copies, every other item is shared. The fold replaces
 * (never edits) courses, onboarding, streak and extensions, so shallow copies do for them.
 * Copying only what changes keeps folding a few events onto thousands of items cheap.
 */
function copyFor(snapshot: Snapshot, events: readonly ProgressEvent[]): Snapshot {
  const next: Snapshot = { ...snapshot, items: { ...snapshot.items }, courses: { ...snapshot.courses } };
  for (const event of events) {
    const contentId = (event as { payload?: { contentId?: unknown } }).payload?.contentId;
    const original = typeof contentId === "string" ? snapshot.items[contentId] : undefined;
    if (original !== undefined && next.items[contentId as string] === original) {
      next.items[contentId as string] = structuredClone(original);
    }
  }
  return next;
}

/** Merge an event's extensions into its item's, or the user's (latest wins per key). */
function extend(s: Snapshot, event: ProgressEvent): void {
  const payload = (event as { payload?: { extensions?: Record<string, unknown>; contentId?: string } })
    .payload;
  const extensions = payload?.extensions;
  if (!extensions || Object.keys(extensions).length === 0) return;
  if (typeof payload?.contentId === "string") {
    const it = item(s, payload.contentId);
    it.extensions = { ...(it.extensions ?? {}), ...extensions };
  } else {
    s.extensions = { ...(s.extensions ?? {}), ...extensions };
  }
}

function item(snapshot: Snapshot, contentId: string): ItemProgress {
  return (snapshot.items[contentId] ??= { status: "not_started" });
}

function fold(s: Snapshot, event: ProgressEvent, at: string): void {
  const time = apiTime(at);
  switch (event.type) {
    case "content.progressed": {
      const p = event.payload;
      const it = item(s, p.contentId);
      raise(s, it, p.status, at);
      if (p.score != null) it.score = it.score === undefined ? p.score : Math.max(it.score, p.score);
      if (p.contentVersion != null) it.contentVersion = p.contentVersion;
      if (p.courseId != null) it.courseId = p.courseId;
      if (p.interaction != null) {
        const { interactionId, state } = p.interaction;
        if (state !== null) (it.interactions ??= {})[interactionId] = state;
        else if (it.interactions) {
          delete it.interactions[interactionId];
          if (Object.keys(it.interactions).length === 0) delete it.interactions;
        }
      }
      it.lastAttemptAt = time;
      return;
    }
    case "media.progressed": {
      const p = event.payload;
      const it = item(s, p.contentId);
      const position = p.positionSeconds;
      const media = (it.media ??= { lastPosition: position, maxPosition: position, watchedSeconds: 0 });
      media.lastPosition = position;
      media.maxPosition = Math.max(media.maxPosition, position);
      if (p.durationSeconds != null) media.duration = p.durationSeconds;
      if (p.watchedSeconds != null) media.watchedSeconds += p.watchedSeconds;
      if (p.courseId != null) it.courseId = p.courseId;
      const duration = media.duration;
      const watched = duration !== undefined && duration > 0 && media.maxPosition * 10 >= duration * 9;
      raise(s, it, watched ? "completed" : "in_progress", at);
      return;
    }
    case "quiz.attempted": {
      const p = event.payload;
      const it = item(s, p.contentId);
      const quiz = it.quiz;
      if (quiz === undefined) {
        it.quiz = { attempts: 1, bestScore: p.score, lastScore: p.score, maxScore: p.maxScore };
      } else {
        quiz.attempts += 1;
        quiz.bestScore = Math.max(quiz.bestScore, p.score);
        quiz.lastScore = p.score;
        quiz.maxScore = p.maxScore;
      }
      if (p.courseId != null) it.courseId = p.courseId;
      it.lastAttemptAt = time;
      raise(s, it, p.passed ? "passed" : "in_progress", at);
      return;
    }
    case "content.rated":
      item(s, event.payload.contentId).rating = event.payload.rating;
      return;
    case "content.scheduled": {
      const it = item(s, event.payload.contentId);
      if (event.payload.scheduledFor === null) delete it.scheduledFor;
      else it.scheduledFor = event.payload.scheduledFor;
      return;
    }
    case "course.completed":
      s.courses[event.payload.courseId] ??= { completedAt: time };
      return;
    case "onboarding.completed":
      s.onboarding = { completed: true, pathId: event.payload.pathId, completedAt: time };
      return;
    case "onboarding.reset":
      s.onboarding = { completed: false };
      return;
    case "activePath.set":
      if (event.payload.pathId === null) delete s.activePathId;
      else s.activePathId = event.payload.pathId;
      return;
    case "progress.reset": {
      const scope = event.payload?.contentIds;
      if (scope) {
        for (const contentId of scope) delete s.items[contentId];
        if (event.payload?.courseId != null) delete s.courses[event.payload.courseId];
        return;
      }
      s.items = {};
      s.courses = {};
      delete s.onboarding;
      delete s.activePathId;
      delete s.streak;
      delete s.extensions;
      return;
    }
    case "events.retracted":
      return;
  }
}

/** Move the item's status up to `status` (never down); a first completion is dated. */
function raise(s: Snapshot, it: ItemProgress, status: Status, at: string): void {
  if (RANK[status] <= RANK[it.status]) return;
  const wasComplete = complete(it.status);
  it.status = status;
  if (complete(status) && !wasComplete) {
    it.completedAt = apiTime(at);
    countActiveDay(s, at.slice(0, 10));
  }
}

/** Count a UTC day on which an item became complete (days arrive in order). */
function countActiveDay(s: Snapshot, day: string): void {
  const streak = s.streak;
  if (streak === undefined) {
    s.streak = { current: 1, longest: 1, lastActiveDate: day };
  } else if (day !== streak.lastActiveDate) {
    const current = daysBetween(streak.lastActiveDate, day) === 1 ? streak.current + 1 : 1;
    s.streak = { current, longest: Math.max(streak.longest, current), lastActiveDate: day };
  }
}

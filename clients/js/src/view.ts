// The optimistic snapshot an app renders: the server's snapshot with the acknowledged and
// pending events folded on. Refolding thousands of pending events on every track() would
// make track() cost milliseconds, so events that sort after everything folded so far (what
// track() makes: occurredAt is now) are only queued here and folded on the next read.

import type { ProgressEvent } from "./events.generated.js";
import { applyEvents, foldOrder, type Keyed, ordered } from "./reducer.js";
import type { Snapshot } from "./snapshot.js";

/** A cached fold of `source()`: the base snapshot and the events on it, in any order. */
export class OptimisticView {
  #folded: Snapshot | undefined;
  #tail: ProgressEvent[] = [];
  /** The event folded last (in fold order), if any. */
  #last: Keyed | undefined;
  #ids = new Set<string>();
  /** False while any event is a retraction: it may name a later event, so refold always. */
  #appendable = true;

  readonly #source: () => { base: Snapshot; events: readonly ProgressEvent[] };

  constructor(source: () => { base: Snapshot; events: readonly ProgressEvent[] }) {
    this.#source = source;
  }

  /** The source changed in some other way than `append`: refold on the next read. */
  invalidate(): void {
    this.#folded = undefined;
    this.#tail = [];
  }

  /** `event` joined the source's events, after the others; `time` is its canonical occurredAt. */
  append(event: ProgressEvent, time: string): void {
    if (this.#folded === undefined) return;
    const keyed: Keyed = [time, event];
    if (
      !this.#appendable ||
      event.type === "events.retracted" ||
      event.type === "progress.reset" ||
      this.#ids.has(event.eventId) ||
      (this.#last !== undefined && foldOrder(keyed, this.#last) <= 0)
    ) {
      this.invalidate();
      return;
    }
    this.#tail.push(event);
    this.#ids.add(event.eventId);
    this.#last = keyed;
  }

  /** The snapshot, folded exactly as `applyEvents(base, events)` would. */
  get(): Snapshot {
    if (this.#folded === undefined) {
      const { base, events } = this.#source();
      const keyed = ordered(events);
      this.#folded = applyEvents(base, events, keyed);
      this.#ids = new Set(keyed.map(([, event]) => event.eventId));
      this.#appendable = !keyed.some(([, event]) => event.type === "events.retracted");
      this.#last = keyed.at(-1);
    } else if (this.#tail.length > 0) {
      this.#folded = applyEvents(this.#folded, this.#tail);
      this.#tail = [];
    }
    return this.#folded;
  }
}

/**
 * The events with each reset of a whole course (a `courseId` without `contentIds`, which the
 * server fills in from its catalog) scoped to the course's items this device knows of: in
 * the snapshot, or named with that course by the other events. A best estimate until the
 * server's snapshot has the reset.
 */
export function scopeCourseResets(base: Snapshot, events: readonly ProgressEvent[]): ProgressEvent[] {
  return events.map((event): ProgressEvent => {
    if (event.type !== "progress.reset") return event;
    const courseId = event.payload?.courseId;
    if (courseId == null || event.payload?.contentIds != null) return event;
    const known = new Set(Object.entries(base.items).filter(([, item]) => item.courseId === courseId).map(([id]) => id));
    for (const other of events) {
      const payload = other.payload as { contentId?: string; courseId?: string | null } | undefined;
      if (payload?.courseId === courseId && payload.contentId !== undefined) known.add(payload.contentId);
    }
    return { ...event, payload: { ...event.payload, contentIds: [...known] } };
  });
}

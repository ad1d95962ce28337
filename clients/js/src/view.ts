// The optimistic snapshot an app renders: the server's snapshot with the acknowledged and
// pending events folded on. Refolding thousands of pending events on every track() would
// make track() cost milliseconds, so events that sort after everything folded so far (what
// track() makes: occurredAt is now) are only queued here and folded on the next read.

import type { ProgressEvent } from "./events.generated.js";
import { applyEvents } from "./reducer.js";
import type { Snapshot } from "./snapshot.js";
import { canonicalTime } from "./time.js";

type Key = readonly [time: string, eventId: string];

const keyOf = (event: ProgressEvent): Key => [canonicalTime(event.occurredAt), event.eventId];
const after = (a: Key, b: Key): boolean => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** A cached fold of `source()`: the base snapshot and the events on it, in any order. */
export class OptimisticView {
  private folded: Snapshot | undefined;
  private tail: ProgressEvent[] = [];
  private last: Key = ["", ""];
  private ids = new Set<string>();
  /** False while any event is a retraction: it may name a later event, so refold always. */
  private appendable = true;

  constructor(private readonly source: () => { base: Snapshot; events: readonly ProgressEvent[] }) {}

  /** The source changed in some other way than `append`: refold on the next read. */
  invalidate(): void {
    this.folded = undefined;
    this.tail = [];
  }

  /** `event` joined the source's events, after the others; `time` is its canonical occurredAt. */
  append(event: ProgressEvent, time: string): void {
    if (this.folded === undefined) return;
    const key: Key = [time, event.eventId];
    if (!this.appendable || event.type === "events.retracted" || this.ids.has(event.eventId) || !after(key, this.last)) {
      this.invalidate();
      return;
    }
    this.tail.push(event);
    this.ids.add(event.eventId);
    this.last = key;
  }

  /** The snapshot, folded exactly as `applyEvents(base, events)` would. */
  get(): Snapshot {
    if (this.folded === undefined) {
      const { base, events } = this.source();
      this.folded = applyEvents(base, events);
      this.ids = new Set(events.map((e) => e.eventId));
      this.appendable = !events.some((e) => e.type === "events.retracted");
      this.last = ["", ""];
      for (const event of events) {
        const key = keyOf(event);
        if (after(key, this.last)) this.last = key;
      }
    } else if (this.tail.length > 0) {
      this.folded = applyEvents(this.folded, this.tail);
      this.tail = [];
    }
    return this.folded;
  }
}

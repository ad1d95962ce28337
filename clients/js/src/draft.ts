import type { EventType, PayloadOf } from "./events.generated.js";

/** What an app may fix itself on an event; the client fills in whatever is left out. */
export interface DraftOptions {
  /** Defaults to a new UUIDv7 (time-ordered). Reuse an id to make a resend a no-op. */
  eventId?: string;
  /** RFC 3339 with offset; defaults to the time of `track()`. */
  occurredAt?: string;
}

/** An event before `track()` gives it an id, a time and the client id. */
export interface Draft<T extends EventType = EventType> extends DraftOptions {
  type: T;
  payload: PayloadOf[T];
}

/** A draft of any event type (what the generated builders return). */
export function draft<T extends EventType>(type: T, payload: PayloadOf[T], options?: DraftOptions): Draft<T> {
  return { ...options, type, payload };
}

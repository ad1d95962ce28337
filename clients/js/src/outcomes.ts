// Per-event sync state: what became of an event the app tracked. Queued events answer from
// the outbox; the flusher remembers the latest outcomes in the outbox's metadata, so every
// tab (and the next page) can ask.

import type { Entry, Outbox } from "./outbox.js";

/** pending: queued, not sent yet; sending: sent, no answer taken yet (it may be stored);
 * synced: the server accepted it; rejected: refused for good, with the server's reason. */
export type EventState =
  | { state: "pending" }
  | { state: "sending" }
  | { state: "synced" }
  | { state: "rejected"; reason: string };

/** An outcome, or the merged heartbeat an event went into. */
export type Outcome = EventState | { into: string };

/** How many outcomes are kept (the newest). */
export const OUTCOMES_KEPT = 1000;
const KEY = "outcomes";

/** Add `outcomes` to the remembered ones, keeping the newest `OUTCOMES_KEPT`. */
export async function remember(box: Outbox, outcomes: readonly [eventId: string, outcome: Outcome][]): Promise<void> {
  if (outcomes.length === 0) return;
  const kept = (await box.getMeta<[string, Outcome][]>(KEY)) ?? [];
  await box.setMeta(KEY, [...kept, ...outcomes].slice(-OUTCOMES_KEPT));
}

/** The state of `eventId`: queued in `entries`, else remembered; undefined when unknown. */
export async function stateOf(box: Outbox, entries: readonly Entry[], eventId: string): Promise<EventState | undefined> {
  const outcomes = new Map((await box.getMeta<[string, Outcome][]>(KEY)) ?? []);
  const queued = new Map(entries.map((e) => [e.event.eventId, e]));
  for (let id: string | undefined = eventId, hops = 0; id !== undefined && hops <= OUTCOMES_KEPT; hops++) {
    const entry = queued.get(id);
    if (entry) return { state: entry.sent ? "sending" : "pending" };
    const outcome = outcomes.get(id);
    if (outcome === undefined || !("into" in outcome)) return outcome;
    id = outcome.into;
  }
  return undefined;
}

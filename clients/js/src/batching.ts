// What goes into one request: media heartbeats coalesced, one user, within the server's limits.

import type { MediaProgressed } from "./events.generated.js";
import type { Entry, NewEntry } from "./outbox.js";
import { canonicalTime } from "./time.js";

/** The server's limits on one write (DESIGN: 500 events, 1 MiB). */
export const MAX_EVENTS = 500;
export const MAX_BYTES = 1024 * 1024;
/** A `pagehide` request rides on `keepalive`, whose cap is 64 KiB per page. */
export const KEEPALIVE_BYTES = 60 * 1024;

const encoder = new TextEncoder();

/** Bytes of a value's JSON. */
export const jsonBytes = (value: unknown): number => encoder.encode(JSON.stringify(value)).length;

/**
 * One `media.progressed` per user and content among the unsent entries: the latest position
 * and the summed watched seconds, with the latest duration and course. An entry that went out
 * before is never merged (the server may have it), and a report further than the latest one
 * is kept on its own so that the furthest position (and with it the 90 % rule) survives.
 *
 * Returns the entries to delete and those to write (the merged entry takes the queue
 * position of the latest report it replaces), and which merged event each report went into.
 */
export function coalesceMedia(
  entries: readonly Entry[],
  newId: () => string,
): { remove: number[]; put: NewEntry[]; into: [eventId: string, mergedId: string][] } {
  const groups = new Map<string, Entry[]>();
  for (const entry of entries) {
    if (entry.sent || entry.event.type !== "media.progressed") continue;
    const key = JSON.stringify([entry.userId, entry.event.payload.contentId]);
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  const remove: number[] = [];
  const put: NewEntry[] = [];
  const into: [string, string][] = [];
  for (const group of groups.values()) {
    const at = (e: Entry): string => canonicalTime(e.event.occurredAt);
    const byTime = [...group].sort((a, b) => (at(a) < at(b) ? -1 : 1));
    const latest = byTime[byTime.length - 1] as Entry;
    const position = (e: Entry): number => (e.event as MediaProgressed).payload.positionSeconds;
    const furthest = byTime.reduce((best, e) => (position(e) > position(best) ? e : best));
    const merged = byTime.filter((e) => e !== furthest || position(e) <= position(latest));
    if (merged.length < 2) continue;
    const payload = { ...(latest.event as MediaProgressed).payload };
    let watched: number | undefined;
    for (const entry of merged) {
      const p = (entry.event as MediaProgressed).payload;
      if (p.watchedSeconds != null) watched = (watched ?? 0) + p.watchedSeconds;
      if (p.durationSeconds != null) payload.durationSeconds = p.durationSeconds;
      if (p.courseId != null) payload.courseId = p.courseId;
    }
    if (watched !== undefined) payload.watchedSeconds = watched;
    const event: MediaProgressed = { ...(latest.event as MediaProgressed), eventId: newId(), payload };
    remove.push(...merged.filter((e) => e !== latest).map((e) => e.seq));
    put.push({ seq: latest.seq, userId: latest.userId, event, size: jsonBytes(event) });
    into.push(...merged.map((e): [string, string] => [e.event.eventId, event.eventId]));
  }
  return { remove, put, into };
}

/** The next request's entries: the oldest entry's user, in queue order, within the limits. */
export function nextBatch(entries: readonly Entry[], maxBytes = MAX_BYTES): Entry[] {
  const first = entries[0];
  if (first === undefined) return [];
  const batch: Entry[] = [];
  let bytes = 16;
  for (const entry of entries) {
    if (entry.userId !== first.userId) continue;
    if (batch.length === MAX_EVENTS || (batch.length > 0 && bytes + entry.size + 1 > maxBytes)) break;
    batch.push(entry);
    bytes += entry.size + 1;
  }
  return batch;
}

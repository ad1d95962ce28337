// The sync status an app shows (a sync indicator): one immutable object per change.

/** idle: nothing queued; pending: queued (retrying when `retryInMs` > 0); syncing: a request
 * is out; offline: the browser is offline; error: stopped on something only the app can fix. */
export type SyncState = "idle" | "pending" | "syncing" | "offline" | "error";

/** The live stream (`client.live()`), held by the flusher tab for all tabs: off (not asked
 * for), connecting (connecting or waiting to reconnect), live (connected), or stopped (the
 * server refused it for good: `onError` heard why, with kind `live`). */
export type LiveState = "off" | "connecting" | "live" | "stopped";

/** A problem the app should hear about; events it names left the outbox. */
export interface SyncError {
  /** rejected: the server refused these events for good (a per-event rejection, or one event
   * too large); erased: the user is erased (410) and their queued events were dropped;
   * http: a 4xx the client cannot fix (state `error`); storage: the outbox could not be
   * written, e.g. the quota is full (state `error`); token: the app's getToken() failed, so
   * the events stay queued and are retried with backoff; live: the live stream stopped
   * (403, 410, a token refused twice, or a user erased or merged), syncing goes on. */
  kind: "rejected" | "erased" | "http" | "storage" | "token" | "live";
  message: string;
  userId?: string;
  status?: number;
  /** Per event: the event and the server's reason. */
  events?: { eventId: string; reason: string; event: unknown }[];
}

/** What `subscribe` listeners receive. */
export interface Status {
  readonly state: SyncState;
  readonly pendingCount: number;
  /** Epoch milliseconds of the last write the server accepted. */
  readonly lastSyncedAt: number | null;
  /** Milliseconds until the next attempt when a retry is scheduled, else 0. */
  readonly retryInMs: number;
  /** Failed attempts in a row at the oldest batch (0 once a write is accepted). */
  readonly retryCount: number;
  readonly lastError: SyncError | null;
  readonly live: LiveState;
}

export type StatusListener = (status: Status) => void;

export const INITIAL_STATUS: Status = Object.freeze({
  state: "idle",
  pendingCount: 0,
  lastSyncedAt: null,
  retryInMs: 0,
  retryCount: 0,
  lastError: null,
  live: "off",
});

/** Holds the current status and tells listeners about each change. */
export class StatusStore {
  #current: Status = INITIAL_STATUS;
  readonly #listeners = new Set<StatusListener>();

  get(): Status {
    return this.#current;
  }

  /** Merge `change` in; listeners hear of it only when something changed. */
  set(change: Partial<Status>): void {
    const next = { ...this.#current, ...change };
    if ((Object.keys(next) as (keyof Status)[]).every((k) => next[k] === this.#current[k])) return;
    this.#current = Object.freeze(next);
    for (const listener of this.#listeners) listener(this.#current);
  }

  /** A new `pendingCount`, with `idle` and `pending` following it in the same change. */
  count(pendingCount: number): void {
    const { state } = this.#current;
    const quiet = state === "idle" || state === "pending";
    this.set({ pendingCount, state: quiet ? (pendingCount ? "pending" : "idle") : state });
  }

  subscribe(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    listener(this.#current);
    return () => this.#listeners.delete(listener);
  }
}

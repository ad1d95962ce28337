// The upload queue's drain loop and its timing, run by the tab that leads (crosstab.ts): when
// to drain (debounced after track(), at once for a flush, going online or hidden, after the
// policy's wait on a retry), what goes into each batch, and what each upload's outcome
// (sending.ts) does to the outbox and the status.

import { uuidv7 } from "uuidv7";
import { coalesceMedia, KEEPALIVE_BYTES, MAX_BYTES, MAX_EVENTS, nextBatch } from "./batching.js";
import type { Coordinator } from "./crosstab.js";
import type { Entry, NewEntry, Outbox } from "./outbox.js";
import { remember } from "./outcomes.js";
import { upload } from "./sending.js";
import type { StatusStore, SyncError } from "./status.js";
import type { Fetch } from "./transport.js";

/** What the flusher needs of the client it drains for. */
export interface FlusherHost {
  readonly status: StatusStore;
  readonly coordinator: Coordinator;
  readonly fetcher: Fetch;
  readonly options: { debounceMs?: number; maxWaitMs?: number };
  readonly closed: boolean;
  url(userId: string, path: string): string;
  token(userId: string, refresh?: boolean): Promise<string>;
  report(error: SyncError): void;
  /** Read the server's state (after the outbox was found empty). */
  pull(): Promise<unknown>;
  /**
   * The events `gone` left the outbox: merged into the entries `added` (heartbeats), or
   * answered for, where the server accepted the entries `acked` and answered `consistencyToken`.
   */
  dequeued(gone: ReadonlySet<string>, added?: readonly NewEntry[], acked?: readonly Entry[], consistencyToken?: string): void;
}

type Waiter = { resolve: () => void; reject: (error: SyncError) => void };

/** Drains a client's outbox to the server while its tab leads. */
export class Flusher {
  // #private: the minifier shortens these names, and the core bundle has a size bound.
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firstQueuedAt: number | undefined;
  #retryAt = 0;
  #draining: Promise<void> | undefined;
  #drainAgain = false;
  #splitTo = MAX_EVENTS;
  #waiters: Waiter[] = [];
  readonly #outbox: Promise<Outbox>;
  readonly #host: FlusherHost;
  readonly #status: StatusStore;
  readonly #detach: () => void;

  constructor(outbox: Promise<Outbox>, host: FlusherHost) {
    this.#outbox = outbox;
    this.#host = host;
    this.#status = host.status;
    this.#detach = this.#listen();
  }

  /** Settles when a drain next finds the outbox empty; rejects on the error state. */
  whenEmpty(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** A flush: now, even while backing off; after the drain under way if there is one. */
  sendNow(): void {
    if (this.#draining) this.#drainAgain = true;
    this.#retryNow();
  }

  /** Plan the next flush: debounced, but within maxWait of the first unsent event. */
  schedule(): void {
    if (!this.#host.coordinator.isLeader() || this.#draining) return;
    const now = Date.now();
    if (this.#retryAt > now || this.#status.get().state === "error") return;
    this.#firstQueuedAt ??= now;
    const { debounceMs = 500, maxWaitMs = 5000 } = this.#host.options;
    const due = Math.min(now + debounceMs, this.#firstQueuedAt + maxWaitMs);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.drain(), Math.max(0, due - now));
  }

  /**
   * Send what is queued. An eager drain (flush(), going online or hidden, taking over as
   * flusher) goes on until the outbox is empty; a debounced one sends what was due and leaves
   * events tracked meanwhile to the next debounce, unless a full batch is waiting.
   */
  drain(eager = false, keepalive = false): Promise<void> {
    if (!this.#host.coordinator.isLeader() || this.#host.closed) return Promise.resolve();
    if (!this.#draining) {
      clearTimeout(this.#timer);
      this.#draining = this.#drainLoop(eager, keepalive)
        .catch((error: unknown) => {
          if (!this.#host.closed) this.fail({ kind: "storage", message: `the outbox could not be read: ${String(error)}` });
        })
        .finally(() => {
          this.#draining = undefined;
          // A flush() that came while this drain was pulling found its events sent already,
          // but it must still hear that the outbox is empty: drain once more for it.
          if (this.#drainAgain) {
            this.#drainAgain = false;
            void this.drain(true);
          } else if (this.#status.get().pendingCount > 0 && this.#retryAt <= Date.now()) this.schedule();
        });
    }
    return this.#draining;
  }

  /** Stop in the error state: only the app can fix what caused `error`. */
  fail(error: SyncError): void {
    this.#status.set({ state: "error", lastError: error, retryInMs: 0 });
    this.#host.report(error);
    this.settle(error);
  }

  /** The outbox was found empty (no `error`), or syncing stopped on `error`: tell flush() callers. */
  settle(error?: SyncError | null): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  /** Stop the timer and the page's listeners. */
  close(): void {
    clearTimeout(this.#timer);
    this.#detach();
  }

  /** Drain at once, even while backing off. */
  #retryNow(): void {
    this.#retryAt = 0;
    void this.drain(true);
  }

  /** The page's signals: drain on going online or hidden, with keepalive on pagehide. */
  #listen(): () => void {
    if (typeof window === "undefined") return () => undefined;
    const signals: [EventTarget, string, () => void][] = [
      [
        window,
        "online",
        () => {
          if (this.#status.get().state === "offline") this.#status.set({ state: "pending" });
          this.#retryNow();
        },
      ],
      [window, "offline", () => this.#offline()],
      [window, "pagehide", () => void this.drain(true, true)],
      [document, "visibilitychange", () => void (document.visibilityState === "hidden" && this.drain(true))],
    ];
    for (const [target, type, listener] of signals) target.addEventListener(type, listener);
    return () => {
      for (const [target, type, listener] of signals) target.removeEventListener(type, listener);
    };
  }

  /** The browser is offline: wait for its `online` event. */
  #offline(): void {
    this.#status.set({ state: "offline", retryInMs: 0 });
  }

  async #drainLoop(eager: boolean, keepalive: boolean): Promise<void> {
    const box = await this.#outbox;
    for (let round = 0; !this.#host.closed; round++) {
      let entries = await box.list(2 * MAX_EVENTS);
      this.#status.count(entries.length < 2 * MAX_EVENTS ? entries.length : await box.count());
      if (entries.length === 0) {
        this.#firstQueuedAt = undefined;
        this.#splitTo = MAX_EVENTS;
        this.#status.set({ state: "idle", retryInMs: 0, retryCount: 0, lastError: null });
        this.settle();
        await this.#host.pull().catch(() => undefined);
        return;
      }
      if (offline()) return this.#offline();
      if (round > 0 && !eager && this.#waiters.length === 0 && entries.length < MAX_EVENTS) return;
      const { remove, put, into } = coalesceMedia(entries, uuidv7);
      if (put.length) {
        await box.update(remove, put);
        this.#host.dequeued(new Set(into.map(([id]) => id)), put);
        await remember(box, into.map(([id, merged]) => [id, { into: merged }]));
        entries = await box.list(2 * MAX_EVENTS);
      }
      const batch = nextBatch(entries, keepalive ? KEEPALIVE_BYTES : MAX_BYTES).slice(0, this.#splitTo);
      const unsent = batch.filter((e) => !e.sent);
      if (unsent.length) await box.update([], unsent.map((e) => ({ ...e, sent: true as const })));
      this.#status.set({ state: "syncing", retryInMs: 0 });
      if (!(await this.#send(box, batch, keepalive)) || keepalive) return;
    }
  }

  /** Send one batch and act on the policy's outcome; false when draining must stop for now. */
  async #send(box: Outbox, batch: Entry[], keepalive: boolean): Promise<boolean> {
    const userId = (batch[0] as Entry).userId;
    const url = this.#host.url(userId, "/progress");
    const events = batch.map((e) => e.event);
    const retryCount = this.#status.get().retryCount;
    const { answer, action, tokenError } = await upload(
      this.#host.fetcher,
      url,
      (renew) => this.#host.token(userId, renew),
      events,
      keepalive,
      retryCount + 1,
    );
    if (tokenError !== undefined) this.#host.report({ kind: "token", message: `getToken() failed: ${tokenError}`, userId });
    switch (action.action) {
      case "accept": {
        const reasons = new Map(answer.results.filter((r) => r.status === "rejected").map((r) => [r.eventId, r.error ?? "rejected"]));
        await box.update(batch.map((e) => e.seq));
        this.#firstQueuedAt = undefined;
        const ids = new Set(events.map((e) => e.eventId));
        this.#host.dequeued(ids, [], batch.filter((e) => !reasons.has(e.event.eventId)), answer.consistencyToken);
        this.#status.set({ lastSyncedAt: Date.now(), retryCount: 0 });
        await remember(
          box,
          events.map(({ eventId }) => {
            const reason = reasons.get(eventId);
            return [eventId, reason === undefined ? { state: "synced" } : { state: "rejected", reason }];
          }),
        );
        if (reasons.size) {
          const refused = batch.filter((e) => reasons.has(e.event.eventId));
          this.#host.report({
            kind: "rejected",
            message: `${reasons.size} event(s) rejected by the server`,
            userId,
            events: refusals(refused, (id) => reasons.get(id) as string),
          });
        }
        return true;
      }
      case "split":
        this.#splitTo = Math.ceil(batch.length / 2);
        return true;
      case "drop_and_report":
        if (action.reason === "too_large") {
          await this.#drop(box, batch, "too_large", { kind: "rejected", message: "an event is larger than the server accepts (413)", userId });
        } else {
          const gone = (await box.list()).filter((e) => e.userId === userId);
          await this.#drop(box, gone, "erased", { kind: "erased", message: `user ${userId} is erased (410); their queued events were dropped`, userId, status: 410 });
        }
        return true;
      case "retry": {
        if (answer.status === null && offline()) {
          this.#offline();
          return false;
        }
        const delay = action.delayMs;
        this.#retryAt = Date.now() + delay;
        this.#status.set({ state: "pending", retryInMs: delay, retryCount: retryCount + 1 });
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          this.#retryAt = 0;
          void this.drain();
        }, delay);
        return false;
      }
      case "error":
        this.fail({
          kind: "http",
          message: `the server refused the batch with HTTP ${answer.status}; events stay queued`,
          userId,
          status: answer.status ?? undefined,
        });
        return false;
    }
  }

  /** `entries` leave the outbox for good: remembered as rejected for `reason`, reported in `error`. */
  async #drop(box: Outbox, entries: Entry[], reason: string, error: SyncError): Promise<void> {
    await box.update(entries.map((e) => e.seq));
    await remember(box, entries.map((e) => [e.event.eventId, { state: "rejected", reason }]));
    this.#host.dequeued(new Set(entries.map((e) => e.event.eventId)));
    this.#host.report({ ...error, events: refusals(entries, () => reason) });
  }
}

/** `entries` as an error reports them, each refused for `reasonOf` its eventId. */
function refusals(entries: readonly Entry[], reasonOf: (eventId: string) => string): NonNullable<SyncError["events"]> {
  return entries.map(({ event }) => ({ eventId: event.eventId, reason: reasonOf(event.eventId), event }));
}

/** True when the browser says it is offline (never outside a browser). */
function offline(): boolean {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}

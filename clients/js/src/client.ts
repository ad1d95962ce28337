// The client an app creates: track() into the durable outbox, debounced flushing by one tab,
// the retry policy, the status, and the optimistic snapshot.

import { uuidv7 } from "uuidv7";
import { coalesceMedia, jsonBytes, KEEPALIVE_BYTES, MAX_BYTES, MAX_EVENTS, nextBatch } from "./batching.js";
import { coordinate, type Coordinator, type Message } from "./crosstab.js";
import type { Draft } from "./draft.js";
import { progressReset, type EventType, type ProgressEvent, type ResetPayload } from "./events.generated.js";
import { openOutbox, type Entry, type NewEntry, type Outbox, type StorageKind } from "./outbox.js";
import { remember, stateOf, type EventState } from "./outcomes.js";
import { backoffMs, verdictFor } from "./policy.js";
import { emptySnapshot, type Snapshot } from "./snapshot.js";
import { StatusStore, type Status, type StatusListener, type SyncError } from "./status.js";
import { canonicalTime } from "./time.js";
import { OptimisticView, scopeCourseResets } from "./view.js";
import { getJson, putEvents, ReadError, readProgress, type Fetch, type ServerState, type WriteAnswer } from "./transport.js";
import type { CourseView } from "./course.js";
import type { Stream } from "./live.js";

/** How to reach the server and whom to send as. */
export interface ClientOptions {
  /** The gateway's origin and path prefix, e.g. `https://progress.example.com`. */
  baseUrl: string;
  /** The signed-in (or guest) user; queued events keep the user they were tracked for. */
  userId: string;
  /** A bearer token for `userId`; called again once when the server answers 401. */
  getToken: (userId: string) => string | Promise<string>;
  /** This device or installation; a UUIDv7 per client by default. */
  clientId?: string;
  /** Separates outboxes (and the tabs that share one); `"default"` by default. */
  name?: string;
  /** Quiet time after the latest `track()` before a flush (default 500 ms)... */
  debounceMs?: number;
  /** ...but no later than this after the first unsent one (default 5000 ms). */
  maxWaitMs?: number;
  /** Hears of events the server refused or dropped, and of errors that stop syncing. */
  onError?: (error: SyncError) => void;
  /** Bound for read-your-writes waits (`waitMs`, default 2000). */
  waitMs?: number;
  fetch?: Fetch;
  /** IndexedDB (else localStorage) in browsers, a file in Node by default. */
  storage?: StorageKind;
  /** Node: the directory of the outbox file (default `.progress-sync`, under the working directory). */
  directory?: string;
}

const SNAPSHOT_NOTIFY_MS = 16;

type Waiter = { resolve: () => void; reject: (error: SyncError) => void };

/** The browser SDK's client; create it with `createClient`. */
export class ProgressClient {
  // Members marked @internal are progress-sync/live's hold on the client (not in the types).
  /** @internal */
  readonly status = new StatusStore();
  private readonly outbox: Promise<Outbox>;
  /** @internal */
  readonly coordinator: Coordinator;
  /** @internal */
  readonly fetcher: Fetch;
  private readonly clientId: string;
  private readonly tokens = new Map<string, string>();
  private readonly snapshotListeners = new Set<(snapshot: Snapshot) => void>();
  /** @internal Events the server accepted that its snapshot as held here may lack. */
  readonly acked = new Map<string, ProgressEvent>();
  private readonly detach: () => void;
  /** @internal */
  userId: string;
  /** @internal */
  server: ServerState | undefined;
  /** @internal The live stream, once `live()` started one. */
  stream: Stream | undefined;
  /** @internal This user's queued events (of every tab). */
  pending: ProgressEvent[] = [];
  private readonly view = new OptimisticView(() => {
    const base = this.server?.snapshot ?? emptySnapshot("", this.userId);
    const events = [...this.acked.values(), ...this.pending].filter((e) => !this.server?.has?.includes(e.eventId));
    return { base, events: scopeCourseResets(base, events) };
  });
  private notifying: ReturnType<typeof setTimeout> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstQueuedAt: number | undefined;
  private retryAt = 0;
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  private readonly leftovers: Promise<boolean>;
  private led = false;
  private waiters: Waiter[] = [];
  private consistencyToken: string | undefined;
  private splitTo = MAX_EVENTS;
  /** @internal */
  closed = false;

  constructor(/** @internal */ readonly options: ClientOptions) {
    this.userId = options.userId;
    this.clientId = options.clientId ?? uuidv7();
    this.fetcher = options.fetch ?? ((...args) => fetch(...args));
    this.outbox = openOutbox(options.name ?? "default", options.storage, options.directory);
    // Listed before any track() of this client can add to the outbox.
    this.leftovers = this.outbox.then((box) => box.list(1)).then((entries) => entries.length > 0, () => true);
    this.coordinator = coordinate(options.name ?? "default", () => this.lead(), (m) => this.hear(m));
    this.status.subscribe((status) => {
      if (this.coordinator.isLeader()) this.coordinator.post({ t: "status", status });
    });
    this.detach = this.listen();
    void this.load();
  }

  /** Queue an event; resolves once it is durable in the outbox, with the event as queued. */
  async track<T extends EventType>(draft: Draft<T>): Promise<ProgressEvent> {
    const event = {
      eventId: draft.eventId ?? uuidv7(),
      occurredAt: draft.occurredAt ?? new Date().toISOString(),
      clientId: this.clientId,
      type: draft.type,
      payload: draft.payload,
    } as ProgressEvent;
    const time = canonicalTime(event.occurredAt);
    const userId = this.userId;
    try {
      await (await this.outbox).add({ userId, event, size: jsonBytes(event) });
    } catch (error) {
      this.fail({ kind: "storage", message: `the outbox could not be written: ${String(error)}`, userId });
      throw error;
    }
    this.pending.push(event);
    this.view.append(event, time);
    this.notify();
    this.status.count(this.status.get().pendingCount + 1);
    this.coordinator.post({ t: "tracked", userId, count: 1 });
    this.schedule();
    return event;
  }

  /** Send everything now; settles when the outbox is empty, or fails on the error state. */
  flush(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.coordinator.isLeader()) {
      this.sendNow();
    } else {
      this.coordinator.post({ t: "flush" });
    }
    return done;
  }

  /** Hear every status change (and the current status at once); returns the unsubscribe. */
  subscribe(listener: StatusListener): () => void {
    return this.status.subscribe(listener);
  }

  getStatus(): Status {
    return this.status.get();
  }

  /** The server's snapshot with this user's pending events applied (optimistic). */
  getSnapshot(): Snapshot {
    return this.view.get();
  }

  /** Hear changes of `getSnapshot()`, at most one call per 16 ms; returns the unsubscribe. */
  onSnapshot(listener: (snapshot: Snapshot) => void): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  /** Read what the server has for this user (paging through the cursor, which is kept). */
  async pull(): Promise<Snapshot> {
    const userId = this.userId;
    // Acknowledged before the read: all of them are in a snapshot the server confirms as
    // consistent with the latest write, so folding them on again would count them twice.
    const ackedBefore = [...this.acked.keys()];
    const answer = await this.renewing(userId, (token) =>
      readProgress(this.fetcher, this.url(userId, "/progress"), token, this.server?.cursor, this.consistencyToken, this.options.waitMs),
    );
    if (userId !== this.userId) return this.getSnapshot();
    if (answer.consistent) this.consistencyToken = undefined;
    await this.advance(userId, { snapshot: answer.snapshot, cursor: answer.cursor }, answer.consistent ? ackedBefore : answer.eventIds);
    return this.getSnapshot();
  }


  /**
   * @internal The server's state moved on to `state` (a read, or the live stream), whose
   * snapshot holds the events `gained`: they leave the acknowledged ones. A state older than
   * the one held (a read answered after the stream moved past it) is not kept; a newer one
   * keeps the queued events marked as included (`has`) unless it brings its own.
   */
  async advance(userId: string, state: ServerState, gained: readonly string[]): Promise<void> {
    if (userId !== this.userId) return;
    for (const id of gained) this.acked.delete(id);
    if (+state.cursor >= +(this.server?.cursor ?? 0)) {
      this.server = { has: this.server?.has, ...state };
      await (await this.outbox).setMeta(`server:${userId}`, this.server);
      this.coordinator.post({ t: "snapshot", userId });
    }
    this.changed();
  }

  /**
   * Track further events for another user (sign-in). Events queued so far keep their user,
   * unless `moveQueued`: then the previous user's events that were never sent become the new
   * user's (a guest signs in). What a guest synced already is joined by your backend's merge
   * call (`POST /v1/users/{userId}/merge`, with an API key).
   */
  async setUser(userId: string, options: { moveQueued?: boolean } = {}): Promise<void> {
    const previous = this.userId;
    this.userId = userId;
    this.server = undefined;
    this.acked.clear();
    if (options.moveQueued && previous !== userId) {
      const box = await this.outbox;
      const moved = (await box.list()).filter((e) => e.userId === previous && !e.sent);
      await box.update([], moved.map((e) => ({ ...e, userId })));
      this.coordinator.post({ t: "tracked", userId, count: 0 });
    }
    await this.load();
    this.stream?.restart();
  }

  /**
   * Drop `userId`'s queued events (sign-out on a shared computer) and return them. Events
   * that went out already may still be stored by the server.
   */
  async discardPending(userId: string): Promise<ProgressEvent[]> {
    const box = await this.outbox;
    const dropped = (await box.list()).filter((e) => e.userId === userId);
    await box.update(dropped.map((e) => e.seq));
    if (userId === this.userId) {
      this.pending = [];
      this.changed();
    }
    this.status.count(await box.count());
    this.coordinator.post({ t: "tracked", userId, count: -dropped.length });
    return dropped.map((e) => e.event);
  }

  /** What became of an event this device tracked: `pending`, `sending`, `synced` or `rejected`
   * (with the server's reason); undefined for an id the outbox never held or has forgotten. */
  async eventState(eventId: string): Promise<EventState | undefined> {
    const box = await this.outbox;
    return stateOf(box, await box.list(), eventId);
  }

  /**
   * Queue a reset of this user's progress: everything, or only a course's items (`courseId`;
   * the server expands it from its catalog) or the named `contentIds`. `idempotencyKey`
   * becomes the reset's eventId, so a repeated call resets once.
   */
  reset(scope: Pick<ResetPayload, "courseId" | "contentIds"> = {}, options: { idempotencyKey?: string } = {}): Promise<ProgressEvent> {
    return this.track(progressReset({ ...scope }, options.idempotencyKey === undefined ? undefined : { eventId: options.idempotencyKey }));
  }

  /**
   * This user's view of a catalog course (completed, percentage, certificate...). After a
   * write it waits, within `waitMs`, until the write is reflected; `waitFor` names another
   * write's consistency token.
   */
  async course(courseId: string, options: { waitFor?: string } = {}): Promise<CourseView> {
    const userId = this.userId;
    const waitFor = options.waitFor ?? this.consistencyToken;
    const query = waitFor === undefined ? "" : `?${new URLSearchParams({ waitFor, waitMs: String(this.options.waitMs ?? 2000) })}`;
    const url = this.url(userId, `/courses/${encodeURIComponent(courseId)}${query}`);
    return this.renewing(userId, (token) => getJson<CourseView>(this.fetcher, url, token));
  }

  /** @internal `userId`'s resource `path` (`/progress`...) at the gateway. */
  url(userId: string, path: string): string {
    return `${this.options.baseUrl}/v1/users/${encodeURIComponent(userId)}${path}`;
  }

  /** A read with the token held for `userId`, and once more with a new one after a 401. */
  private async renewing<T>(userId: string, read: (token: string) => Promise<T>): Promise<T> {
    return read(await this.token(userId)).catch(async (error: unknown) => {
      if (error instanceof ReadError && error.status === 401) return read(await this.token(userId, true));
      throw error;
    });
  }

  /** Stop timers, listeners and the flusher role (another tab takes it over). */
  close(): void {
    this.closed = true;
    this.stream?.stop();
    clearTimeout(this.timer);
    clearTimeout(this.notifying);
    this.detach();
    this.coordinator.close();
    void this.outbox.then((box) => box.close());
  }

  /** This user's queued events and stored server state (unless a pull gave a newer one). */
  private async load(): Promise<void> {
    const box = await this.outbox;
    const userId = this.userId;
    const stored = await box.getMeta<ServerState>(`server:${userId}`);
    const entries = await box.list();
    if (userId !== this.userId) return;
    this.server ??= stored;
    this.pending = entries.filter((e) => e.userId === userId).map((e) => e.event);
    this.status.count(entries.length);
    this.changed();
    if (entries.length > 0 && this.coordinator.isLeader()) this.schedule();
  }

  private changed(): void {
    this.view.invalidate();
    this.notify();
  }

  /** Tell snapshot listeners, once per burst of changes: a render per frame is enough. */
  private notify(): void {
    if (this.snapshotListeners.size === 0 || this.notifying !== undefined) return;
    this.notifying = setTimeout(() => {
      this.notifying = undefined;
      if (this.closed) return;
      const snapshot = this.getSnapshot();
      for (const listener of this.snapshotListeners) listener(snapshot);
    }, SNAPSHOT_NOTIFY_MS);
  }

  /** A flush: now, even while backing off; after the drain under way if there is one. */
  private sendNow(): void {
    this.retryAt = 0;
    if (this.draining) this.drainAgain = true;
    void this.drain(true);
  }

  /**
   * This tab became the flusher. Taking over from another tab, or starting on events left
   * from an earlier page, it sends at once; a fresh start only reads the server, so the first
   * events an app tracks wait for the debounce like any others.
   */
  private lead(): void {
    const starting = !this.led;
    this.led = true;
    this.stream?.restart();
    void this.leftovers.then((left) => {
      if (left || !starting) return this.drain(true);
      return this.pull()
        .catch(() => undefined)
        .then(() => {
          if (this.status.get().pendingCount > 0) this.schedule();
        });
    });
  }

  private hear(message: Message): void {
    const leader = this.coordinator.isLeader();
    if (message.t === "status" && !leader) {
      this.status.set(message.status as Status);
      if ((message.status as Status).state === "idle") this.settle();
      else if ((message.status as Status).state === "error") this.settle((message.status as Status).lastError);
    } else if (message.t === "tracked") {
      if (leader) {
        this.status.count(this.status.get().pendingCount + message.count);
        this.schedule();
      }
      if (message.userId === this.userId) void this.load();
    } else if (message.t === "snapshot" && message.userId === this.userId && !leader) {
      this.acked.clear();
      this.server = undefined;
      void this.load();
    } else if (message.t === "flush" && leader) {
      this.sendNow();
    }
  }

  private listen(): () => void {
    if (typeof window === "undefined") return () => undefined;
    const online = (): void => {
      if (this.status.get().state === "offline") this.status.set({ state: "pending" });
      this.retryAt = 0;
      void this.drain(true);
    };
    const offline = (): void => this.status.set({ state: "offline", retryInMs: 0 });
    const hidden = (): void => {
      if (document.visibilityState === "hidden") void this.drain(true);
    };
    const pagehide = (): void => void this.drain(true, true);
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    window.addEventListener("pagehide", pagehide);
    document.addEventListener("visibilitychange", hidden);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      window.removeEventListener("pagehide", pagehide);
      document.removeEventListener("visibilitychange", hidden);
    };
  }

  /** Plan the next flush: debounced, but within maxWait of the first unsent event. */
  private schedule(): void {
    if (!this.coordinator.isLeader() || this.draining) return;
    const now = Date.now();
    if (this.retryAt > now || this.status.get().state === "error") return;
    this.firstQueuedAt ??= now;
    const due = Math.min(now + (this.options.debounceMs ?? 500), this.firstQueuedAt + (this.options.maxWaitMs ?? 5000));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), Math.max(0, due - now));
  }

  /**
   * Send what is queued. An eager drain (flush(), going online or hidden, taking over as
   * flusher) goes on until the outbox is empty; a debounced one sends what was due and leaves
   * events tracked meanwhile to the next debounce, unless a full batch is waiting.
   */
  private drain(eager = false, keepalive = false): Promise<void> {
    if (!this.coordinator.isLeader() || this.closed) return Promise.resolve();
    if (!this.draining) {
      clearTimeout(this.timer);
      this.draining = this.drainLoop(eager, keepalive)
        .catch((error: unknown) => {
          if (!this.closed) this.fail({ kind: "storage", message: `the outbox could not be read: ${String(error)}` });
        })
        .finally(() => {
          this.draining = undefined;
          // A flush() that came while this drain was pulling found its events sent already,
          // but it must still hear that the outbox is empty: drain once more for it.
          if (this.drainAgain) {
            this.drainAgain = false;
            void this.drain(true);
          } else if (this.status.get().pendingCount > 0 && this.retryAt <= Date.now()) this.schedule();
        });
    }
    return this.draining;
  }

  private async drainLoop(eager: boolean, keepalive: boolean): Promise<void> {
    const box = await this.outbox;
    for (let round = 0; !this.closed; round++) {
      let entries = await box.list(2 * MAX_EVENTS);
      this.status.count(entries.length < 2 * MAX_EVENTS ? entries.length : await box.count());
      if (entries.length === 0) {
        this.firstQueuedAt = undefined;
        this.splitTo = MAX_EVENTS;
        this.status.set({ state: "idle", retryInMs: 0, retryCount: 0, lastError: null });
        this.settle();
        await this.pull().catch(() => undefined);
        return;
      }
      if (typeof navigator !== "undefined" && navigator.onLine === false) {
        this.status.set({ state: "offline", retryInMs: 0 });
        return;
      }
      if (round > 0 && !eager && this.waiters.length === 0 && entries.length < MAX_EVENTS) return;
      const { remove, put, into } = coalesceMedia(entries, uuidv7);
      if (put.length) {
        await box.update(remove, put);
        await this.merged(box, into, put);
        entries = await box.list(2 * MAX_EVENTS);
      }
      const batch = nextBatch(entries, keepalive ? KEEPALIVE_BYTES : MAX_BYTES).slice(0, this.splitTo);
      const unsent = batch.filter((e) => !e.sent);
      if (unsent.length) await box.update([], unsent.map((e) => ({ ...e, sent: true as const })));
      this.status.set({ state: "syncing", retryInMs: 0 });
      if (!(await this.send(box, batch, keepalive)) || keepalive) return;
    }
  }

  /**
   * Heartbeats were merged in the outbox: the view's pending events follow, so that each
   * original is folded once, inside the merged event, and never again beside it.
   */
  private async merged(box: Outbox, into: readonly [string, string][], put: readonly NewEntry[]): Promise<void> {
    const gone = new Set(into.map(([id]) => id));
    const mine = put.filter((e) => e.userId === this.userId).map((e) => e.event);
    this.pending = [...this.pending.filter((e) => !gone.has(e.eventId)), ...mine];
    this.changed();
    await remember(box, into.map(([id, merged]) => [id, { into: merged }]));
  }

  /** Send one batch and act on the answer; false when draining must stop for now. */
  private async send(box: Outbox, batch: Entry[], keepalive: boolean): Promise<boolean> {
    const userId = (batch[0] as Entry).userId;
    const url = this.url(userId, "/progress");
    const events = batch.map((e) => e.event);
    let answer: WriteAnswer;
    try {
      answer = await putEvents(this.fetcher, url, await this.token(userId), events, keepalive);
      if (answer.status === 401) {
        answer = await putEvents(this.fetcher, url, await this.token(userId, true), events, keepalive);
      }
    } catch (error) {
      // The app had no token to give (its backend down, its user signed out): like a network
      // error, the events stay queued and are retried with backoff; the app hears why.
      this.report({ kind: "token", message: `getToken() failed: ${String(error)}`, userId });
      answer = { status: null, retryAfter: null, results: [] };
    }
    const verdict = answer.status === null ? { kind: "retry" as const } : verdictFor(answer.status, answer.retryAfter);
    switch (verdict.kind) {
      case "accepted": {
        const refused = new Map(answer.results.filter((r) => r.status === "rejected").map((r) => [r.eventId, r]));
        await box.update(batch.map((e) => e.seq));
        this.firstQueuedAt = undefined;
        this.consistencyToken = answer.consistencyToken ?? this.consistencyToken;
        const sent = new Set(batch.map((e) => e.event.eventId));
        const before = this.pending.length;
        this.pending = this.pending.filter((e) => !sent.has(e.eventId));
        const mine = batch.filter((e) => e.userId === this.userId);
        for (const entry of mine) {
          if (!refused.has(entry.event.eventId)) this.acked.set(entry.event.eventId, entry.event);
        }
        this.status.set({ lastSyncedAt: Date.now(), retryCount: 0 });
        await remember(
          box,
          batch.map(({ event: { eventId } }) => {
            const refusal = refused.get(eventId);
            return [eventId, refusal ? { state: "rejected", reason: refusal.error ?? "rejected" } : { state: "synced" }];
          }),
        );
        // Pending events that the server accepted only move to the acknowledged ones: the view
        // folds both, so it stays as it is. A refusal, or another tab's events, change it.
        if (refused.size > 0 || before - this.pending.length !== mine.length) this.changed();
        if (refused.size) {
          this.report({
            kind: "rejected",
            message: `${refused.size} event(s) rejected by the server`,
            userId,
            events: batch
              .filter((e) => refused.has(e.event.eventId))
              .map((e) => ({ eventId: e.event.eventId, reason: refused.get(e.event.eventId)?.error ?? "rejected", event: e.event })),
          });
        }
        return true;
      }
      case "split":
        if (batch.length > 1) {
          this.splitTo = Math.ceil(batch.length / 2);
          return true;
        }
        this.pending = this.pending.filter((e) => e.eventId !== events[0]?.eventId);
        await this.drop(box, batch, "too_large", { kind: "rejected", message: "an event is larger than the server accepts (413)", userId });
        return true;
      case "erased": {
        const gone = (await box.list()).filter((e) => e.userId === userId);
        if (userId === this.userId) this.pending = [];
        await this.drop(box, gone, "erased", { kind: "erased", message: `user ${userId} is erased (410); their queued events were dropped`, userId, status: 410 });
        return true;
      }
      case "retry": {
        if (answer.status === null && typeof navigator !== "undefined" && navigator.onLine === false) {
          this.status.set({ state: "offline", retryInMs: 0 });
          return false;
        }
        const retryCount = this.status.get().retryCount;
        const delay = verdict.afterMs ?? backoffMs(retryCount);
        this.retryAt = Date.now() + delay;
        this.status.set({ state: "pending", retryInMs: delay, retryCount: retryCount + 1 });
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.retryAt = 0;
          void this.drain();
        }, delay);
        return false;
      }
      default:
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
  private async drop(box: Outbox, entries: Entry[], reason: string, error: SyncError): Promise<void> {
    await box.update(entries.map((e) => e.seq));
    await remember(box, entries.map((e) => [e.event.eventId, { state: "rejected", reason }]));
    this.changed();
    this.report({ ...error, events: entries.map((e) => ({ eventId: e.event.eventId, reason, event: e.event })) });
  }

  /** @internal A token for `userId`: the one held, or a new one from `getToken()`. */
  async token(userId: string, refresh = false): Promise<string> {
    let token = this.tokens.get(userId);
    if (token === undefined || refresh) {
      token = await this.options.getToken(userId);
      this.tokens.set(userId, token);
    }
    return token;
  }

  /** @internal */
  report(error: SyncError): void {
    this.options.onError?.(error);
  }

  private fail(error: SyncError): void {
    this.status.set({ state: "error", lastError: error, retryInMs: 0 });
    this.report(error);
    this.settle(error);
  }

  private settle(error?: SyncError | null): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }
}

/** A client for `options.userId`; see `ClientOptions`. */
export function createClient(options: ClientOptions): ProgressClient {
  return new ProgressClient(options);
}

// The client an app creates: track() into the durable outbox, the optimistic snapshot and the
// status, with one tab leading (crosstab.ts) whose flusher (flusher.ts) drains the outbox.

import { uuidv7 } from "uuidv7";
import { jsonBytes } from "./batching.js";
import { coordinate, type Coordinator, type Message } from "./crosstab.js";
import type { Draft } from "./draft.js";
import { progressReset, type EventType, type ProgressEvent, type ResetPayload } from "./events.generated.js";
import { openOutbox, type Entry, type NewEntry, type Outbox, type StorageKind } from "./outbox.js";
import { stateOf, type EventState } from "./outcomes.js";
import { emptySnapshot, type Snapshot } from "./snapshot.js";
import { StatusStore, type Status, type StatusListener, type SyncError } from "./status.js";
import { canonicalTime } from "./time.js";
import { OptimisticView, scopeCourseResets } from "./view.js";
import { getJson, ReadError, readProgress, type Fetch, type ServerState } from "./transport.js";
import type { CourseView } from "./course.js";
import type { Stream } from "./live.js";
// Last: the core bundle is larger than gzip's window, and the flusher compresses best beside the client.
import { Flusher } from "./flusher.js";

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

/** The browser SDK's client; create it with `createClient`. */
export class ProgressClient {
  // Members marked @internal are progress-sync/live's and the flusher's hold on the client (not
  // in the types); #private ones are shortened by the minifier (the core has a size bound).
  /** @internal */
  readonly status = new StatusStore();
  readonly #outbox: Promise<Outbox>;
  /** @internal */
  readonly coordinator: Coordinator;
  /** @internal */
  readonly fetcher: Fetch;
  readonly #clientId: string;
  readonly #tokens = new Map<string, string>();
  readonly #snapshotListeners = new Set<(snapshot: Snapshot) => void>();
  /** @internal Events the server accepted that its snapshot as held here may lack. */
  readonly acked = new Map<string, ProgressEvent>();
  readonly #flusher: Flusher;
  /** @internal */
  userId: string;
  /** @internal */
  server: ServerState | undefined;
  /** @internal The live stream, once `live()` started one. */
  stream: Stream | undefined;
  /** @internal This user's queued events (of every tab). */
  pending: ProgressEvent[] = [];
  readonly #view = new OptimisticView(() => {
    const base = this.server?.snapshot ?? emptySnapshot("", this.userId);
    const events = [...this.acked.values(), ...this.pending].filter((e) => !this.server?.has?.includes(e.eventId));
    return { base, events: scopeCourseResets(base, events) };
  });
  #notifying: ReturnType<typeof setTimeout> | undefined;
  readonly #leftovers: Promise<boolean>;
  #led = false;
  #consistencyToken: string | undefined;
  /** @internal */
  closed = false;

  constructor(/** @internal */ readonly options: ClientOptions) {
    this.userId = options.userId;
    this.#clientId = options.clientId ?? uuidv7();
    this.fetcher = options.fetch ?? ((...args) => fetch(...args));
    this.#outbox = openOutbox(options.name ?? "default", options.storage, options.directory);
    // Listed before any track() of this client can add to the outbox.
    this.#leftovers = this.#outbox.then((box) => box.list(1)).then((entries) => entries.length > 0, () => true);
    this.coordinator = coordinate(options.name ?? "default", () => this.#lead(), (m) => this.#hear(m));
    this.status.subscribe((status) => {
      if (this.coordinator.isLeader()) this.coordinator.post({ t: "status", status });
    });
    this.#flusher = new Flusher(this.#outbox, this);
    void this.#load();
  }

  /** Queue an event; resolves once it is durable in the outbox, with the event as queued. */
  async track<T extends EventType>(draft: Draft<T>): Promise<ProgressEvent> {
    const event = {
      eventId: draft.eventId ?? uuidv7(),
      occurredAt: draft.occurredAt ?? new Date().toISOString(),
      clientId: this.#clientId,
      type: draft.type,
      payload: draft.payload,
    } as ProgressEvent;
    const time = canonicalTime(event.occurredAt);
    const userId = this.userId;
    try {
      await (await this.#outbox).add({ userId, event, size: jsonBytes(event) });
    } catch (error) {
      this.#flusher.fail({ kind: "storage", message: `the outbox could not be written: ${String(error)}`, userId });
      throw error;
    }
    this.pending.push(event);
    this.#view.append(event, time);
    this.#notify();
    this.status.count(this.status.get().pendingCount + 1);
    this.coordinator.post({ t: "tracked", userId, count: 1 });
    this.#flusher.schedule();
    return event;
  }

  /** Send everything now; settles when the outbox is empty, or fails on the error state. */
  flush(): Promise<void> {
    const done = this.#flusher.whenEmpty();
    if (this.coordinator.isLeader()) {
      this.#flusher.sendNow();
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
    return this.#view.get();
  }

  /** Hear changes of `getSnapshot()`, at most one call per 16 ms; returns the unsubscribe. */
  onSnapshot(listener: (snapshot: Snapshot) => void): () => void {
    this.#snapshotListeners.add(listener);
    return () => this.#snapshotListeners.delete(listener);
  }

  /** Read what the server has for this user (paging through the cursor, which is kept). */
  async pull(): Promise<Snapshot> {
    const userId = this.userId;
    // Acknowledged before the read: all of them are in a snapshot the server confirms as
    // consistent with the latest write, so folding them on again would count them twice.
    const ackedBefore = [...this.acked.keys()];
    const answer = await this.#renewing(userId, (token) =>
      readProgress(this.fetcher, this.url(userId, "/progress"), token, this.server?.cursor, this.#consistencyToken, this.options.waitMs),
    );
    if (userId !== this.userId) return this.getSnapshot();
    if (answer.consistent) this.#consistencyToken = undefined;
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
      await (await this.#outbox).setMeta(`server:${userId}`, this.server);
      this.coordinator.post({ t: "snapshot", userId });
    }
    this.#changed();
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
      const box = await this.#outbox;
      const moved = (await box.list()).filter((e) => e.userId === previous && !e.sent);
      await box.update([], moved.map((e) => ({ ...e, userId })));
      this.coordinator.post({ t: "tracked", userId, count: 0 });
    }
    await this.#load();
    this.stream?.restart();
  }

  /**
   * Drop `userId`'s queued events (sign-out on a shared computer) and return them. Events
   * that went out already may still be stored by the server.
   */
  async discardPending(userId: string): Promise<ProgressEvent[]> {
    const box = await this.#outbox;
    const dropped = (await box.list()).filter((e) => e.userId === userId);
    await box.update(dropped.map((e) => e.seq));
    if (userId === this.userId) {
      this.pending = [];
      this.#changed();
    }
    this.status.count(await box.count());
    this.coordinator.post({ t: "tracked", userId, count: -dropped.length });
    return dropped.map((e) => e.event);
  }

  /** What became of an event this device tracked: `pending`, `sending`, `synced` or `rejected`
   * (with the server's reason); undefined for an id the outbox never held or has forgotten. */
  async eventState(eventId: string): Promise<EventState | undefined> {
    const box = await this.#outbox;
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
    const waitFor = options.waitFor ?? this.#consistencyToken;
    const query = waitFor === undefined ? "" : `?${new URLSearchParams({ waitFor, waitMs: String(this.options.waitMs ?? 2000) })}`;
    const url = this.url(userId, `/courses/${encodeURIComponent(courseId)}${query}`);
    return this.#renewing(userId, (token) => getJson<CourseView>(this.fetcher, url, token));
  }

  /** @internal `userId`'s resource `path` (`/progress`...) at the gateway. */
  url(userId: string, path: string): string {
    return `${this.options.baseUrl}/v1/users/${encodeURIComponent(userId)}${path}`;
  }

  /** A read with the token held for `userId`, and once more with a new one after a 401. */
  async #renewing<T>(userId: string, read: (token: string) => Promise<T>): Promise<T> {
    return read(await this.token(userId)).catch(async (error: unknown) => {
      if (error instanceof ReadError && error.status === 401) return read(await this.token(userId, true));
      throw error;
    });
  }

  /** Stop timers, listeners and the flusher role (another tab takes it over). */
  close(): void {
    this.closed = true;
    this.stream?.stop();
    clearTimeout(this.#notifying);
    this.#flusher.close();
    this.coordinator.close();
    void this.#outbox.then((box) => box.close());
  }

  /** This user's queued events and stored server state (unless a pull gave a newer one). */
  async #load(): Promise<void> {
    const box = await this.#outbox;
    const userId = this.userId;
    const stored = await box.getMeta<ServerState>(`server:${userId}`);
    const entries = await box.list();
    if (userId !== this.userId) return;
    this.server ??= stored;
    this.pending = entries.filter((e) => e.userId === userId).map((e) => e.event);
    this.status.count(entries.length);
    this.#changed();
    if (entries.length > 0 && this.coordinator.isLeader()) this.#flusher.schedule();
  }

  #changed(): void {
    this.#view.invalidate();
    this.#notify();
  }

  /** Tell snapshot listeners, once per burst of changes: a render per frame is enough. */
  #notify(): void {
    if (this.#snapshotListeners.size === 0 || this.#notifying !== undefined) return;
    this.#notifying = setTimeout(() => {
      this.#notifying = undefined;
      if (this.closed) return;
      const snapshot = this.getSnapshot();
      for (const listener of this.#snapshotListeners) listener(snapshot);
    }, SNAPSHOT_NOTIFY_MS);
  }

  /**
   * This tab became the flusher. Taking over from another tab, or starting on events left
   * from an earlier page, it sends at once; a fresh start only reads the server, so the first
   * events an app tracks wait for the debounce like any others.
   */
  #lead(): void {
    const starting = !this.#led;
    this.#led = true;
    this.stream?.restart();
    void this.#leftovers.then((left) => {
      if (left || !starting) return this.#flusher.drain(true);
      return this.pull()
        .catch(() => undefined)
        .then(() => {
          if (this.status.get().pendingCount > 0) this.#flusher.schedule();
        });
    });
  }

  #hear(message: Message): void {
    const leader = this.coordinator.isLeader();
    if (message.t === "status" && !leader) {
      this.status.set(message.status as Status);
      if ((message.status as Status).state === "idle") this.#flusher.settle();
      else if ((message.status as Status).state === "error") this.#flusher.settle((message.status as Status).lastError);
    } else if (message.t === "tracked") {
      if (leader) {
        this.status.count(this.status.get().pendingCount + message.count);
        this.#flusher.schedule();
      }
      if (message.userId === this.userId) void this.#load();
    } else if (message.t === "snapshot" && message.userId === this.userId && !leader) {
      this.acked.clear();
      this.server = undefined;
      void this.#load();
    } else if (message.t === "flush" && leader) {
      this.#flusher.sendNow();
    }
  }

  /** @internal See `FlusherHost.dequeued` (flusher.ts): the view's pending events follow the outbox. */
  dequeued(gone: ReadonlySet<string>, added: readonly NewEntry[] = [], acked: readonly Entry[] = [], consistencyToken?: string): void {
    this.#consistencyToken = consistencyToken ?? this.#consistencyToken;
    const mine = (entries: readonly NewEntry[]): NewEntry[] => entries.filter((e) => e.userId === this.userId);
    const before = this.pending.length;
    this.pending = [...this.pending.filter((e) => !gone.has(e.eventId)), ...mine(added).map((e) => e.event)];
    for (const { event } of mine(acked)) this.acked.set(event.eventId, event);
    // Pending events that the server accepted only move to the acknowledged ones: the view
    // folds both, so it stays as it is. A refusal, a drop, a merge or another tab's events change it.
    if (gone.size !== acked.length || before - this.pending.length !== mine(acked).length) this.#changed();
  }

  /** @internal A token for `userId`: the one held, or a new one from `getToken()`. */
  async token(userId: string, refresh = false): Promise<string> {
    let token = this.#tokens.get(userId);
    if (token === undefined || refresh) {
      token = await this.options.getToken(userId);
      this.#tokens.set(userId, token);
    }
    return token;
  }

  /** @internal */
  report(error: SyncError): void {
    this.options.onError?.(error);
  }
}

/** A client for `options.userId`; see `ClientOptions`. */
export function createClient(options: ClientOptions): ProgressClient {
  return new ProgressClient(options);
}

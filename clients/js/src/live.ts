// progress-sync/live: `live(client)` keeps a client's snapshot current as other devices
// write. The flusher tab reads `GET /v1/users/{userId}/progress/stream` (Server-Sent Events
// over fetch, since EventSource cannot send a bearer token) from the client's cursor, folds
// each message into the server state the client holds, and the other tabs reload that state
// as they do after a read. An entry of its own, so the core stays within its size bound.

import type { ProgressClient } from "./client.js";
import type { ProgressEvent } from "./events.generated.js";
import { applyEvents, type LiveState } from "./index.js";
import { backoffMs, verdictFor } from "./policy.js";
import { serverSentEvents } from "./sse.js";

/** The client's hold on its live stream (internal). */
export interface Stream {
  /** Connect again from the client's cursor (this tab became the flusher, the user changed). */
  restart(): void;
  /** Close the stream for good (`live()`'s stop, `client.close()`). */
  stop(): void;
}

/** An `events` message: the events stored after the previous cursor, oldest first. */
interface Message {
  events: ProgressEvent[];
  cursor: string;
}

/** Close reasons after which the same stream cannot go on: the user is gone from here. */
const FINAL = new Set(["erased", "merged"]);

/**
 * Follow `client`'s user as they change on other devices: one stream for all tabs of the
 * client's `name`, held by the flusher tab (so call it in every tab, as the same app code
 * does), folded into each tab's snapshot, `onSnapshot` told; `getStatus().live` says how it
 * goes. Resumes from the last cursor after a drop. Returns the stop.
 */
export function live(client: ProgressClient): () => void {
  client.stream?.stop();
  const stream = new LiveStream(client);
  client.stream = stream;
  stream.restart();
  return () => stream.stop();
}

class LiveStream implements Stream {
  private connection: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Failed connections in a row: the backoff step of the next retry. */
  private failures = 0;
  /** Renew the token before the next connection (the stream closed with `token_expired`). */
  private renew = false;
  private stopped = false;
  /** The user whose stream the server refused for good: no retry until another user. */
  private refusedFor: string | undefined;
  private readonly detach: () => void;
  /** A tab that starts asks the flusher for its live state, which changes reach as status. */
  private readonly channel: BroadcastChannel | null;

  constructor(private readonly client: ProgressClient) {
    this.detach = this.listen();
    this.channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(`progress-sync-live:${client.options.name ?? "default"}`);
    if (this.channel) {
      this.channel.onmessage = ({ data }: MessageEvent<LiveState | "ask">) => {
        const leader = client.coordinator.isLeader();
        if (data === "ask" && leader) this.channel?.postMessage(client.status.get().live);
        else if (data !== "ask" && !leader) client.status.set({ live: data });
      };
      this.channel.postMessage("ask");
    }
  }

  restart(): void {
    this.disconnect();
    const client = this.client;
    if (this.stopped || client.closed || this.refusedFor === client.userId || !client.coordinator.isLeader()) return;
    const connection = (this.connection = new AbortController());
    void this.connect(connection.signal);
  }

  stop(): void {
    this.stopped = true;
    this.disconnect();
    this.detach();
    if (this.client.stream === this) {
      this.client.stream = undefined;
      this.set("off");
    }
    this.channel?.close();
  }

  /** This tab's live state (the flusher's status, `live` included, reaches every tab). */
  private set(live: LiveState): void {
    this.client.status.set({ live });
  }

  private disconnect(): void {
    clearTimeout(this.timer);
    this.connection?.abort();
    this.connection = undefined;
  }

  /** Reconnect when the browser comes back online; drop the stream when it goes offline. */
  private listen(): () => void {
    if (typeof window === "undefined") return () => undefined;
    const online = (): void => this.restart();
    const offline = (): void => {
      if (this.stopped) return;
      this.disconnect();
      this.set("connecting");
    };
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
    };
  }

  /** One connection: read it until it ends, then decide what comes next. */
  private async connect(signal: AbortSignal): Promise<void> {
    const client = this.client;
    const userId = client.userId;
    this.set("connecting");
    try {
      // The stream brings what comes after a cursor: read the snapshot first if there is none.
      if (client.server === undefined) await client.pull();
      let from = (client.server as { cursor: string }).cursor;
      let response = await this.open(userId, from, this.renew, signal);
      if (response.status === 401) response = await this.open(userId, from, true, signal);
      this.renew = false;
      if (response.status !== 200 || response.body === null) return this.refused(response);
      this.failures = 0;
      this.set("live");
      for await (const message of serverSentEvents(response.body)) {
        if (signal.aborted) return;
        if (!client.coordinator.isLeader()) return this.disconnect();
        if (message.event === "events") {
          const data = JSON.parse(message.data) as Message;
          await this.fold(userId, from, data);
          from = data.cursor;
        } else if (message.event === "closed") {
          return this.closed(String((JSON.parse(message.data) as { reason?: unknown }).reason));
        }
      }
      this.retry(null);
    } catch {
      if (!signal.aborted) this.retry(null);
    }
  }

  private open(userId: string, since: string, renew: boolean, signal: AbortSignal): Promise<Response> {
    const url = this.client.url(userId, `/progress/stream?${new URLSearchParams({ since })}`);
    // `since`, not `Last-Event-ID`: a cross-origin page may send only the headers CORS allows.
    return this.client.token(userId, renew).then((token) =>
      this.client.fetcher(url, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" }, cache: "no-store", signal }),
    );
  }

  /**
   * Fold a message into the client's server state when that state is where the message
   * starts (`from`). A read that moved the state past `from` meanwhile holds some of these
   * events already: then a read from its cursor brings exactly the rest, if any.
   */
  private async fold(userId: string, from: string, message: Message): Promise<void> {
    const server = this.client.server;
    if (server === undefined || userId !== this.client.userId) return;
    if (server.cursor === from) {
      const snapshot = applyEvents(server.snapshot, message.events);
      const gained = message.events.map((e) => e.eventId);
      // This device's own queued or acknowledged events among them are in the snapshot now:
      // marked, so that the optimistic view does not fold them a second time.
      const held = new Set([...this.client.acked.keys(), ...this.client.pending.map((e) => e.eventId)]);
      const has = [...(server.has ?? []), ...gained].filter((id) => held.has(id));
      await this.client.advance(userId, { snapshot, cursor: message.cursor, has }, gained);
    } else if (+message.cursor > +server.cursor) {
      await this.client.pull();
    }
  }

  private closed(reason: string): void {
    if (FINAL.has(reason)) return this.stopWith(`the live stream closed: the user was ${reason}`);
    // token_expired: a new token; lifetime: at once; shutdown: after a backoff step, while
    // the gateway restarts.
    this.renew = reason === "token_expired";
    if (reason === "shutdown") return this.retry(null);
    this.restart();
  }

  /** The server did not open the stream: retry what the write policy retries, else stop. */
  private refused(response: Response): void {
    const verdict = verdictFor(response.status, response.headers.get("Retry-After"));
    if (verdict.kind === "retry") return this.retry(verdict.afterMs ?? null);
    this.stopWith(`the server refused the live stream with HTTP ${response.status}`, response.status);
  }

  /** Connect again after `afterMs`, else the backoff step; offline, wait for `online`. */
  private retry(afterMs: number | null): void {
    if (this.stopped || this.client.closed) return;
    this.set("connecting");
    if (typeof navigator !== "undefined" && navigator.onLine === false) return;
    const delay = afterMs ?? backoffMs(this.failures++);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.restart(), delay);
  }

  private stopWith(message: string, status?: number): void {
    this.disconnect();
    this.refusedFor = this.client.userId;
    this.set("stopped");
    this.client.report({ kind: "live", message, userId: this.client.userId, status });
  }
}

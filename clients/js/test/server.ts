// A scripted stand-in for the gateway: records requests and answers from a queue of replies.
import type { ProgressEvent } from "../src/events.generated.js";
import { reduce } from "../src/reducer.js";
import type { Snapshot } from "../src/snapshot.js";

export interface Sent {
  method: string;
  url: string;
  token: string;
  events: ProgressEvent[];
  keepalive: boolean;
}

type Reply = (sent: Sent) => Response | Promise<Response>;

export function accepted(sent: Sent, rejected: Record<string, string> = {}): Response {
  const results = sent.events.map((e) =>
    rejected[e.eventId] ? { eventId: e.eventId, status: "rejected", error: rejected[e.eventId] } : { eventId: e.eventId, status: "accepted" },
  );
  const body = { accepted: results.filter((r) => r.status === "accepted").length, rejected: Object.keys(rejected).length, results };
  return Response.json(body, { status: 202 });
}

export class FakeServer {
  readonly writes: Sent[] = [];
  readonly reads: string[] = [];
  readonly replies: Reply[] = [];
  snapshot: Record<string, unknown> = { tenantId: "demo", userId: "u1", items: {}, courses: {}, eventCount: 0 };
  pages: { events: ProgressEvent[]; cursor: string; hasMore: boolean }[] = [];
  /** The answer to course view reads. */
  course: Record<string, unknown> = {};
  /** The `Progress-Consistent` answer to reads that wait for a write; none when undefined. */
  consistent: boolean | undefined;

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const token = String((init?.headers as Record<string, string>)?.Authorization ?? "").replace("Bearer ", "");
    if ((init?.method ?? "GET") === "GET") {
      this.reads.push(url);
      if (url.includes("/courses/")) return Response.json(this.course);
      const page = this.pages.shift() ?? { events: [], cursor: "7", hasMore: false };
      const headers = this.consistent === undefined ? undefined : { "Progress-Consistent": String(this.consistent) };
      return Response.json({ snapshot: this.snapshot, ...page }, { headers });
    }
    const sent: Sent = {
      method: init?.method ?? "GET",
      url,
      token,
      events: (JSON.parse(String(init?.body)) as { events: ProgressEvent[] }).events,
      keepalive: Boolean(init?.keepalive),
    };
    this.writes.push(sent);
    const reply = this.replies.shift();
    return reply ? reply(sent) : accepted(sent);
  };

  get sentIds(): string[] {
    return this.writes.flatMap((w) => w.events.map((e) => e.eventId));
  }
}

export const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
};

/**
 * A stand-in that keeps a real log and folds it with the TypeScript reducer: each event once
 * by eventId, cursors are log positions, and `hold()` keeps new writes out of reads (a
 * projector that lags) until `release()`.
 */
export class LogServer {
  readonly log: ProgressEvent[] = [];
  readonly reads: string[] = [];
  /** Events per page of a `since` read. */
  pageSize = 500;
  /** Each request for the live stream: its URL and bearer token. */
  readonly streamRequests: { url: string; token: string; at: number }[] = [];
  /** Answers for the next stream requests instead of opening one (a refusal). */
  readonly streamReplies: (() => Response)[] = [];
  /** While set, a write is stored and announced, but answered only once this resolves. */
  answerAfter: Promise<void> | undefined;
  /** While set, a read's answer is made at once but delivered only once this resolves. */
  readAfter: Promise<void> | undefined;
  private streams: { cursor: number; controller: ReadableStreamDefaultController<Uint8Array> }[] = [];
  private visible = 0;
  private held = false;

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.visible = this.log.length;
    this.announce();
  }

  /** Another device's write: stored, visible and announced at once. */
  remote(events: ProgressEvent[]): void {
    this.log.push(...events);
    if (!this.held) this.visible = this.log.length;
    this.announce();
  }

  /** Each open stream gets the visible events after its cursor, in one message. */
  announce(): void {
    for (const stream of this.streams) {
      const events = this.log.slice(stream.cursor, this.visible);
      if (events.length === 0) continue;
      stream.cursor = this.visible;
      const data = JSON.stringify({ events, cursor: String(stream.cursor) });
      this.send(stream, `id: ${stream.cursor}\nevent: events\ndata: ${data}\n\n`);
    }
  }

  /** End every open stream with `event: closed` and `reason`. */
  closeStreams(reason: string): void {
    for (const stream of this.take()) {
      this.send(stream, `event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
      stream.controller.close();
    }
  }

  /** Break every open stream as a lost connection does. */
  dropStreams(): void {
    for (const stream of this.take()) stream.controller.error(new TypeError("network error"));
  }

  get openStreams(): number {
    return this.streams.length;
  }

  private take(): LogServer["streams"] {
    const streams = this.streams;
    this.streams = [];
    return streams;
  }

  private send(stream: LogServer["streams"][number], text: string): void {
    stream.controller.enqueue(new TextEncoder().encode(text));
  }

  /** `GET …/progress/stream?since=`: an event stream from that cursor (else from now). */
  private stream(url: URL, init: RequestInit | undefined): Response {
    const token = String((init?.headers as Record<string, string>)?.Authorization ?? "").replace("Bearer ", "");
    this.streamRequests.push({ url: String(url), token, at: Date.now() });
    const reply = this.streamReplies.shift();
    if (reply) return reply();
    const since = url.searchParams.get("since");
    let opened: LogServer["streams"][number] | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        opened = { cursor: since === null ? this.visible : Number(since), controller };
        this.streams.push(opened);
      },
      cancel: () => {
        this.streams = this.streams.filter((s) => s !== opened);
      },
    });
    init?.signal?.addEventListener("abort", () => {
      this.streams = this.streams.filter((s) => s !== opened);
      opened?.controller.error(new DOMException("aborted", "AbortError"));
    });
    queueMicrotask(() => this.announce());
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  }

  /** The snapshot the server serves: the fold of its visible events. */
  snapshot(): Snapshot {
    return reduce(this.log.slice(0, this.visible), "demo", "u1");
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    if (url.pathname.endsWith("/progress/stream")) return this.stream(url, init);
    if ((init?.method ?? "GET") !== "GET") {
      const events = (JSON.parse(String(init?.body)) as { events: ProgressEvent[] }).events;
      for (const event of events) if (!this.log.some((e) => e.eventId === event.eventId)) this.log.push(event);
      if (!this.held) this.visible = this.log.length;
      this.announce();
      await this.answerAfter;
      const results = events.map((e) => ({ eventId: e.eventId, status: "accepted" }));
      return Response.json({ accepted: events.length, rejected: 0, results, consistencyToken: String(this.log.length) }, { status: 202 });
    }
    this.reads.push(String(input));
    const waitFor = url.searchParams.get("waitFor");
    const headers = waitFor === null ? undefined : { "Progress-Consistent": String(Number(waitFor) <= this.visible) };
    const since = url.searchParams.get("since");
    const events = since === null ? [] : this.log.slice(Number(since), this.visible);
    const page = events.slice(0, this.pageSize);
    const cursor = since === null ? String(this.visible) : String(Number(since) + page.length);
    const answer = Response.json({ snapshot: this.snapshot(), events: page, cursor, hasMore: events.length > page.length }, { headers });
    await this.readAfter;
    return answer;
  };
}

// A scripted stand-in for the gateway: records requests and answers from a queue of replies.
import type { ProgressEvent } from "../src/events.generated.js";

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
  /** The `Progress-Consistent` answer to reads that wait for a write; none when undefined. */
  consistent: boolean | undefined;

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const token = String((init?.headers as Record<string, string>)?.Authorization ?? "").replace("Bearer ", "");
    if ((init?.method ?? "GET") === "GET") {
      this.reads.push(url);
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

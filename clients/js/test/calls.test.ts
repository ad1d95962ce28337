// The calls an app needs beside track(): discard a user's queue, per-event state, scoped
// resets, course views and a guest's sign-in.
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type ProgressClient } from "../src/client.js";
import { contentProgressed, mediaProgressed } from "../src/events.generated.js";
import { openOutbox } from "../src/outbox.js";
import { accepted, FakeServer, until } from "./server.js";

let made: ProgressClient[] = [];
let counter = 0;

afterEach(() => {
  for (const client of made) client.close();
  made = [];
});

async function start(server: FakeServer, name = `calls-${++counter}`): Promise<ProgressClient> {
  const sdk = createClient({ baseUrl: "http://gw", userId: "u1", getToken: () => "t", fetch: server.fetch, debounceMs: 60_000, maxWaitMs: 60_000, name });
  made.push(sdk);
  await until(() => server.reads.length > 0);
  return sdk;
}

const lesson = (contentId: string, courseId?: string) => contentProgressed({ contentId, courseId, status: "completed" });

describe("discardPending", () => {
  it("drops one user's queued events, returns them and leaves other users' queued", async () => {
    const server = new FakeServer();
    const name = `calls-${++counter}`;
    const sdk = await start(server, name);
    const kept = await sdk.track(lesson("a"));
    await sdk.setUser("u2");
    const first = await sdk.track(lesson("b"));
    const second = await sdk.track(lesson("c"));
    const dropped = await sdk.discardPending("u2");
    expect(dropped.map((e) => e.eventId)).toEqual([first.eventId, second.eventId]);
    expect(sdk.getSnapshot().items).toEqual({});
    expect(sdk.getStatus()).toMatchObject({ state: "pending", pendingCount: 1 });
    const box = await openOutbox(name);
    expect((await box.list()).map((e) => e.event.eventId)).toEqual([kept.eventId]);
    box.close();
    await sdk.flush();
    expect(server.sentIds).toEqual([kept.eventId]);
  });
});

describe("eventState", () => {
  it("follows an event from pending through sending to synced or rejected with the reason", async () => {
    const server = new FakeServer();
    let answer: (response: Response) => void = () => undefined;
    server.replies.push((sent) => new Promise<Response>((resolve) => (answer = () => resolve(accepted(sent, { bad: "payload.rating: too long" })))));
    const sdk = await start(server);
    const good = await sdk.track(lesson("a"));
    await sdk.track(contentProgressed({ contentId: "b", status: "completed" }, { eventId: "bad" }));
    expect(await sdk.eventState(good.eventId)).toEqual({ state: "pending" });
    const flushed = sdk.flush();
    await until(() => server.writes.length === 1);
    expect(await sdk.eventState(good.eventId)).toEqual({ state: "sending" });
    answer(new Response());
    await flushed;
    expect(await sdk.eventState(good.eventId)).toEqual({ state: "synced" });
    expect(await sdk.eventState("bad")).toEqual({ state: "rejected", reason: "payload.rating: too long" });
    expect(await sdk.eventState("never-tracked")).toBeUndefined();
  });

  it("answers for a merged heartbeat with the state of the event it went into", async () => {
    const server = new FakeServer();
    const sdk = await start(server);
    const beat = await sdk.track(mediaProgressed({ contentId: "v", positionSeconds: 10, watchedSeconds: 10 }));
    await sdk.track(mediaProgressed({ contentId: "v", positionSeconds: 20, watchedSeconds: 10 }));
    await sdk.flush();
    expect(server.sentIds).toHaveLength(1);
    expect(await sdk.eventState(beat.eventId)).toEqual({ state: "synced" });
  });

  it("says too_large for a single event the server answers 413", async () => {
    const server = new FakeServer();
    server.replies.push(() => new Response(null, { status: 413 }));
    const sdk = await start(server);
    const big = await sdk.track(lesson("a"));
    await sdk.flush();
    expect(await sdk.eventState(big.eventId)).toEqual({ state: "rejected", reason: "too_large" });
  });
});

describe("reset", () => {
  it("queues a course's reset under the idempotency key, and the view clears only that course", async () => {
    const server = new FakeServer();
    server.snapshot = { tenantId: "demo", userId: "u1", items: { a: { status: "completed", courseId: "c1" }, z: { status: "completed", courseId: "c2" } }, courses: { c1: { completedAt: "2026-12-01T09:00:00Z" } }, eventCount: 2 };
    const sdk = await start(server);
    await sdk.pull();
    await sdk.track(lesson("b", "c1"));
    const reset = await sdk.reset({ courseId: "c1" }, { idempotencyKey: "reset-c1-once" });
    expect(reset).toMatchObject({ eventId: "reset-c1-once", type: "progress.reset", payload: { courseId: "c1" } });
    expect(Object.keys(sdk.getSnapshot().items)).toEqual(["z"]);
    expect(sdk.getSnapshot().courses).toEqual({});
    await sdk.reset({ contentIds: ["z"] });
    expect(sdk.getSnapshot().items).toEqual({});
    await sdk.flush();
    expect(server.writes[0]?.events.map((e) => e.payload)).toEqual([
      { contentId: "b", courseId: "c1", status: "completed" },
      { courseId: "c1" },
      { contentIds: ["z"] },
    ]);
  });
});

describe("course", () => {
  it("reads the user's course view, waiting for the client's latest write", async () => {
    const server = new FakeServer();
    server.replies.push((sent) => Response.json({ accepted: 1, rejected: 0, results: sent.events.map((e) => ({ eventId: e.eventId, status: "accepted" })), consistencyToken: "ct-9" }, { status: 202 }));
    server.course = { courseId: "c/1", completed: 1, required: 2, percentage: 50 };
    const sdk = await start(server);
    await sdk.track(lesson("a", "c/1"));
    await sdk.flush();
    expect(await sdk.course("c/1")).toMatchObject({ courseId: "c/1", percentage: 50 });
    expect(server.reads.at(-1)).toBe("http://gw/v1/users/u1/courses/c%2F1?waitFor=ct-9&waitMs=2000");
    await sdk.course("c/1", { waitFor: "other" });
    expect(server.reads.at(-1)).toContain("waitFor=other");
  });
});

describe("a guest signs in", () => {
  it("moves the guest's unsent events to the signed-in user with moveQueued", async () => {
    const server = new FakeServer();
    const sdk = await start(server);
    await sdk.setUser("guest-7");
    await sdk.track(lesson("a"));
    await sdk.setUser("u9", { moveQueued: true });
    expect(sdk.getSnapshot().items.a?.status).toBe("completed");
    await sdk.flush();
    expect(server.writes.map((w) => w.url)).toEqual(["http://gw/v1/users/u9/progress"]);
  });
});

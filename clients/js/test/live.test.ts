// progress-sync/live against a stand-in gateway that keeps a real log and streams it: other
// devices' events reach the snapshot, a dropped stream resumes from its cursor, refusals
// follow the write policy, and this device's own events are never folded twice.
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type ClientOptions, type ProgressClient } from "../src/client.js";
import { contentProgressed, mediaProgressed, type ProgressEvent } from "../src/events.generated.js";
import { live } from "../src/live.js";
import { openOutbox } from "../src/outbox.js";
import { BACKOFF_MS } from "../src/policy.js";
import { reduce } from "../src/reducer.js";
import type { SyncError } from "../src/status.js";
import { readmeExample } from "./readme.js";
import { LogServer, until } from "./server.js";

let made: ProgressClient[] = [];
let counter = 0;

afterEach(() => {
  for (const client of made) client.close();
  made = [];
});

/** A client (a tab) on `server`, its flushing left to flush(). */
function tab(server: LogServer, options: Partial<ClientOptions> = {}): ProgressClient {
  const client = createClient({
    baseUrl: "http://gw",
    userId: "u1",
    getToken: () => "t",
    fetch: server.fetch,
    debounceMs: 60_000,
    maxWaitMs: 60_000,
    name: `live-${++counter}`,
    ...options,
  });
  made.push(client);
  return client;
}

/** A tab that has gone live. */
async function liveTab(server: LogServer, options: Partial<ClientOptions> = {}): Promise<ProgressClient> {
  const client = tab(server, options);
  live(client);
  await until(() => client.getStatus().live === "live");
  return client;
}

const at = (second: number): string => new Date(Date.UTC(2026, 11, 1, 9, 0, second)).toISOString();
/** A heartbeat of another device: `watched` more seconds of video `v`. */
const beat = (second: number, watched: number): ProgressEvent =>
  ({ eventId: `other-${second}`, occurredAt: at(second), clientId: "phone", ...mediaProgressed({ contentId: "v", positionSeconds: second, durationSeconds: 600, watchedSeconds: watched }) }) as ProgressEvent;
const watched = (client: ProgressClient): number | undefined => client.getSnapshot().items.v?.media?.watchedSeconds;
const streamed = (server: LogServer) => server.streamRequests.map((r) => new URL(r.url).searchParams.get("since"));

describe("live", () => {
  it("folds another device's events into the snapshot as they come, tells onSnapshot, and shows live", async () => {
    const server = new LogServer();
    server.remote([beat(1, 10)]);
    const sdk = tab(server);
    const heard: (number | undefined)[] = [];
    sdk.onSnapshot((snapshot) => heard.push(snapshot.items.v?.media?.watchedSeconds));
    const stop = live(sdk);
    await until(() => sdk.getStatus().live === "live");
    expect(streamed(server)).toEqual(["1"]);
    expect(watched(sdk)).toBe(10);
    server.remote([beat(2, 5)]);
    await until(() => heard.at(-1) === 15);
    server.remote([beat(3, 4), beat(4, 4)]);
    await until(() => watched(sdk) === 23);
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
    stop();
    expect(sdk.getStatus().live).toBe("off");
    await until(() => server.openStreams === 0);
  });

  it("resumes from its last cursor after the connection drops, with the write policy's backoff: nothing missed, nothing twice", async () => {
    const server = new LogServer();
    const sdk = await liveTab(server);
    server.remote([beat(1, 10)]);
    await until(() => watched(sdk) === 10);
    server.dropStreams();
    await until(() => sdk.getStatus().live === "connecting");
    server.remote([beat(2, 5), beat(3, 7)]);
    await until(() => sdk.getStatus().live === "live", 3000);
    await until(() => watched(sdk) === 22);
    expect(streamed(server)).toEqual(["0", "1"]);
    const [first, second] = server.streamRequests;
    const gap = (second?.at ?? 0) - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(0.8 * BACKOFF_MS[0]);
    expect(gap).toBeLessThan(1.2 * BACKOFF_MS[0] + 400);
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
  });

  it("waits for Retry-After on 429 and 503, then connects", async () => {
    const server = new LogServer();
    server.streamReplies.push(() => new Response("busy", { status: 429, headers: { "Retry-After": "0" } }));
    server.streamReplies.push(() => new Response("down", { status: 503, headers: { "Retry-After": "0" } }));
    const sdk = await liveTab(server);
    expect(server.streamRequests).toHaveLength(3);
  });

  it("renews the token through getToken() on 401 and when the stream closes with token_expired", async () => {
    const server = new LogServer();
    let issued = 0;
    server.streamReplies.push(() => new Response("expired", { status: 401 }));
    const sdk = await liveTab(server, { getToken: () => `t${++issued}` });
    const tokens = (): string[] => server.streamRequests.map((r) => r.token);
    expect(tokens()).toEqual(["t1", "t2"]);
    server.closeStreams("token_expired");
    await until(() => server.streamRequests.length === 3 && server.openStreams === 1);
    expect(tokens()).toEqual(["t1", "t2", "t3"]);
    server.remote([beat(1, 3)]);
    await until(() => watched(sdk) === 3);
  });

  it.each([
    ["a 403", () => new Response("forbidden", { status: 403 }), 403],
    ["a 410 (erased)", () => new Response("gone", { status: 410 }), 410],
    ["a token refused twice", () => new Response("no", { status: 401 }), 401],
  ])("stops on %s with the status saying so and the app told", async (_, answer, status) => {
    const server = new LogServer();
    server.streamReplies.push(answer, answer);
    const errors: SyncError[] = [];
    const sdk = tab(server, { onError: (error) => errors.push(error) });
    live(sdk);
    await until(() => sdk.getStatus().live === "stopped");
    expect(errors).toEqual([expect.objectContaining({ kind: "live", status, userId: "u1" })]);
    const asked = server.streamRequests.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.streamRequests).toHaveLength(asked);
  });

  it("keeps what the stream brought when a read that started before it answers after it", async () => {
    const server = new LogServer();
    const sdk = await liveTab(server);
    let answer = (): void => undefined;
    server.readAfter = new Promise((resolve) => (answer = resolve));
    const reads = server.reads.length;
    const pulled = sdk.pull();
    await until(() => server.reads.length > reads);
    server.readAfter = undefined;
    server.remote([beat(1, 10)]);
    await until(() => watched(sdk) === 10);
    answer();
    await pulled;
    expect(watched(sdk)).toBe(10);
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
  });

  it("stops when the stream closes because the user was erased or merged", async () => {
    const server = new LogServer();
    const errors: SyncError[] = [];
    const sdk = await liveTab(server, { onError: (error) => errors.push(error) });
    server.closeStreams("merged");
    await until(() => sdk.getStatus().live === "stopped");
    expect(errors[0]?.message).toContain("merged");
  });
});

describe("this device's own events, streamed back", () => {
  /** The fold of the server's log and the events still queued, each once. */
  async function expected(server: LogServer, name: string): Promise<ReturnType<typeof reduce>> {
    const box = await openOutbox(name);
    const queued = (await box.list()).map((e) => e.event);
    box.close();
    return reduce([...server.log, ...queued], "demo", "u1");
  }

  it("count once when the stream brings them before their write is answered", async () => {
    const server = new LogServer();
    const name = `live-own-${++counter}`;
    const sdk = await liveTab(server, { name });
    await sdk.track(mediaProgressed({ contentId: "v", positionSeconds: 10, durationSeconds: 600, watchedSeconds: 10 }, { occurredAt: at(20) }));
    let answer = (): void => undefined;
    server.answerAfter = new Promise((resolve) => (answer = resolve));
    const flushed = sdk.flush();
    await until(() => sdk.getSnapshot().eventCount === 1 && server.log.length === 1);
    await until(() => sdk.getSnapshot().items.v?.media?.watchedSeconds !== undefined);
    expect(watched(sdk)).toBe(10);
    expect(sdk.getSnapshot()).toEqual(await expected(server, name));
    answer();
    await flushed;
    expect(watched(sdk)).toBe(10);
    server.remote([beat(30, 5)]);
    await until(() => watched(sdk) === 15);
    await sdk.pull();
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
  });

  it("count once when the stream brings them after their write was acknowledged", async () => {
    const server = new LogServer();
    server.hold();
    const sdk = await liveTab(server);
    await sdk.track(mediaProgressed({ contentId: "v", positionSeconds: 10, durationSeconds: 600, watchedSeconds: 10 }, { occurredAt: at(20) }));
    await sdk.flush();
    expect(watched(sdk)).toBe(10);
    server.release();
    await until(() => sdk.getSnapshot().eventCount === 1 && server.openStreams === 1);
    server.remote([beat(30, 5)]);
    await until(() => watched(sdk) === 15);
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
  });
});

describe("tabs", () => {
  it("share one stream, held by the flusher; the next flusher resumes it from the shared cursor", async () => {
    const server = new LogServer();
    const name = `live-tabs-${++counter}`;
    const first = await liveTab(server, { name });
    const second = tab(server, { name });
    live(second);
    server.remote([beat(1, 10)]);
    await until(() => watched(second) === 10);
    await until(() => second.getStatus().live === "live");
    expect(server.streamRequests).toHaveLength(1);
    await second.track(contentProgressed({ contentId: "lesson-1", status: "completed" }, { occurredAt: at(2) }));
    await second.flush();
    await until(() => first.getSnapshot().items["lesson-1"]?.status === "completed");
    first.close();
    await until(() => server.streamRequests.length === 2 && server.openStreams === 1);
    expect(streamed(server)).toEqual(["0", "2"]);
    server.remote([beat(3, 5)]);
    await until(() => watched(second) === 15);
    expect(second.getSnapshot()).toEqual(server.snapshot());
  });
});

describe("tabs, stopping", () => {
  it("hear that the flusher's stream stopped", async () => {
    const server = new LogServer();
    const name = `live-stop-${++counter}`;
    const first = tab(server, { name });
    const stop = live(first);
    await until(() => first.getStatus().live === "live");
    const second = tab(server, { name });
    live(second);
    await until(() => second.getStatus().live === "live");
    stop();
    await until(() => second.getStatus().live === "off" && server.openStreams === 0);
  });
});

describe("the README's live example", () => {
  it("shows the stream going live and another device's progress as it comes", async () => {
    type Example = { showLiveProgress: (client: ProgressClient, show: (line: string) => void) => () => void };
    const { showLiveProgress } = await readmeExample<Example>("live", { "progress-sync/live": "live.ts" });
    const server = new LogServer();
    const lines: string[] = [];
    const stop = showLiveProgress(tab(server), (line) => lines.push(line));
    await until(() => lines.includes("live sync: live"));
    server.remote([{ eventId: "e1", occurredAt: at(1), clientId: "phone", ...contentProgressed({ contentId: "lesson-1", status: "completed" }) } as ProgressEvent]);
    await until(() => lines.includes("lesson-1: completed"));
    stop();
    await until(() => lines.at(-1) === "live sync: off");
  });
});

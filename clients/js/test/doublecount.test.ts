// The optimistic view counts each event once: held to the fold of what the server stored plus
// what is still queued, through merging heartbeats, sending, acknowledging and pulling.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type ProgressClient } from "../src/client.js";
import { contentProgressed, mediaProgressed } from "../src/events.generated.js";
import { openOutbox } from "../src/outbox.js";
import { reduce } from "../src/reducer.js";
import type { Snapshot } from "../src/snapshot.js";
import { LogServer, until } from "./server.js";

let made: ProgressClient[] = [];
let counter = 0;

afterEach(() => {
  for (const client of made) client.close();
  made = [];
});

async function start(server: LogServer): Promise<{ sdk: ProgressClient; name: string }> {
  const name = `double-${++counter}-${Math.random()}`;
  const sdk = createClient({ baseUrl: "http://gw", userId: "u1", getToken: () => "t", fetch: server.fetch, debounceMs: 60_000, maxWaitMs: 60_000, name });
  made.push(sdk);
  await until(() => server.reads.length > 0);
  await sdk.pull();
  return { sdk, name };
}

/** The fold of the server's stored events and the events still queued, each once. */
async function expected(server: LogServer, name: string): Promise<Snapshot> {
  const box = await openOutbox(name);
  const queued = (await box.list()).map((e) => e.event);
  box.close();
  return reduce([...server.log, ...queued], "demo", "u1");
}

const at = (second: number): string => new Date(Date.UTC(2026, 11, 1, 9, 0, second)).toISOString();
const beat = (second: number, watched: number, contentId = "v"): ReturnType<typeof mediaProgressed> =>
  mediaProgressed({ contentId, positionSeconds: second, durationSeconds: 600, watchedSeconds: watched }, { occurredAt: at(second) });

describe("watch time after merged heartbeats", () => {
  it("equals the server's at every step: track, merge and send, pull", async () => {
    const server = new LogServer();
    const { sdk, name } = await start(server);
    const watched = (): number | undefined => sdk.getSnapshot().items.v?.media?.watchedSeconds;
    for (let n = 1; n <= 3; n++) await sdk.track(beat(n * 10, 10));
    expect(watched()).toBe(30);
    expect(sdk.getSnapshot()).toEqual(await expected(server, name));
    await sdk.flush();
    expect(server.log).toHaveLength(1);
    expect(server.snapshot().items.v?.media?.watchedSeconds).toBe(30);
    expect(watched()).toBe(30);
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
    await sdk.pull();
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
    await sdk.track(beat(40, 8));
    await sdk.track(beat(50, 8));
    server.hold();
    await sdk.flush();
    expect(watched()).toBe(46);
    await sdk.pull();
    expect(watched()).toBe(46);
    server.release();
    await sdk.pull();
    expect(sdk.getSnapshot()).toEqual(server.snapshot());
    expect(watched()).toBe(46);
  });
});

type Step =
  | { op: "beat"; contentId: string; watched: number }
  | { op: "step"; contentId: string }
  | { op: "flush" }
  | { op: "pull" }
  | { op: "hold" }
  | { op: "release" };

const steps = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant("beat" as const), contentId: fc.constantFrom("v1", "v2"), watched: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ op: fc.constant("step" as const), contentId: fc.constantFrom("a", "b") }),
    fc.constant({ op: "flush" as const }),
    fc.constant({ op: "pull" as const }),
    fc.constant({ op: "hold" as const }),
    fc.constant({ op: "release" as const }),
  ),
  { minLength: 1, maxLength: 25 },
);

describe("the optimistic view (property)", () => {
  it("equals the fold of the server's events plus the pending ones, for any interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(steps, fc.integer({ min: 1, max: 3 }), async (script: Step[], pageSize) => {
        const server = new LogServer();
        server.pageSize = pageSize;
        const { sdk, name } = await start(server);
        let second = 0;
        try {
          for (const step of script) {
            second += 1;
            if (step.op === "beat") await sdk.track(beat(second, step.watched, step.contentId));
            else if (step.op === "step") await sdk.track(contentProgressed({ contentId: step.contentId, status: "in_progress" }, { occurredAt: at(second) }));
            else if (step.op === "flush") await sdk.flush();
            else if (step.op === "pull") await sdk.pull();
            else if (step.op === "hold") server.hold();
            else server.release();
            expect(sdk.getSnapshot(), `after ${step.op} (${server.log.length} stored)`).toEqual(await expected(server, name));
          }
        } finally {
          sdk.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});

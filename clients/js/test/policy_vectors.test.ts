import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient, type ProgressClient } from "../src/client.js";
import { contentProgressed } from "../src/events.generated.js";
import { BACKOFF_MS, decide, MAX_RETRY_AFTER_MS, type Action } from "../src/policy.js";
import type { Status, SyncError } from "../src/status.js";
import { accepted, FakeServer, until, type Sent } from "./server.js";

interface Vector {
  name: string;
  status: number | null;
  headers?: Record<string, string>;
  attempt: number;
  batchSize: number;
  renewed?: boolean;
  expect: { action: Action["action"]; delayMs?: number; jitter?: boolean; reason?: string };
}
const golden = JSON.parse(readFileSync(new URL("../../golden/policy-vectors.json", import.meta.url), "utf8")) as {
  now: string;
  backoffMs: number[];
  jitter: number;
  maxRetryAfterMs: number;
  vectors: Vector[];
};
const now = Date.parse(golden.now);

describe("the retry policy follows the shared policy vectors", () => {
  it("has the vectors' backoff steps and Retry-After cap", () => {
    expect([...BACKOFF_MS]).toEqual(golden.backoffMs);
    expect(MAX_RETRY_AFTER_MS).toBe(golden.maxRetryAfterMs);
  });

  // Each vector at the jitter's two ends and its middle: a backoff step spreads by ±jitter.
  it.each(golden.vectors.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    for (const random of [0, 0.5, 0.999999]) {
      const answer = {
        status: vector.status,
        retryAfter: vector.headers?.["Retry-After"] ?? null,
        attempt: vector.attempt,
        batchSize: vector.batchSize,
        renewed: vector.renewed ?? false,
      };
      const action = decide(answer, now, () => random);
      const { delayMs, jitter, ...expected } = vector.expect;
      if (delayMs === undefined) {
        expect(action).toEqual(expected);
        continue;
      }
      const spread = jitter ? 1 - golden.jitter + 2 * golden.jitter * random : 1;
      expect(action.action).toBe("retry");
      expect(action.action === "retry" ? action.delayMs : undefined).toBeCloseTo(delayMs * spread, -1);
    }
  });
});

/** The vector's answer as the fake server gives it. */
function reply(vector: Vector): (sent: Sent) => Response | Promise<Response> {
  if (vector.status === null) return () => Promise.reject(new TypeError("Failed to fetch"));
  if (vector.status === 202) return (sent) => accepted(sent);
  return () => new Response(null, { status: vector.status as number, headers: vector.headers });
}

/** What the client did after the vector's answer, named as the vectors name it. */
function actionOf(vector: Vector, server: FakeServer, seen: Status[], errors: SyncError[], tokens: number): Record<string, unknown> {
  const reasons = new Set(errors.flatMap((e) => e.events ?? []).map((e) => e.reason));
  if (reasons.size) return { action: "drop_and_report", reason: [...reasons].join() };
  if (seen.some((s) => s.state === "error")) return { action: "error" };
  const wait = seen.find((s) => s.state === "pending" && s.retryCount === vector.attempt);
  if (wait) return { action: "retry", delayMs: wait.retryInMs };
  if (tokens === 2) return { action: "renew_token" };
  const [first, second] = server.writes.slice(vector.attempt - 1);
  if (second && first && second.events.length < first.events.length) return { action: "split" };
  return { action: "accept" };
}

describe("the client does what each policy vector says", () => {
  let made: ProgressClient | undefined;
  afterEach(() => {
    made?.close();
    vi.restoreAllMocks();
  });

  // HTTP-dates need the vectors' clock: the policy's own test above covers them.
  const live = golden.vectors.filter((v) => !v.headers?.["Retry-After"]?.includes("GMT"));
  it.each(live.map((v) => [v.name, v] as const))("%s", async (name, vector) => {
    const server = new FakeServer();
    // attempt - 1 failures first (each retried at once by a flush), then the vector's answer
    // (twice when it answers a renewed token), then acceptance.
    const failures = Array.from({ length: vector.attempt - 1 }, () => () => new Response(null, { status: 503 }));
    server.replies.push(...failures, reply(vector), ...(vector.renewed ? [reply(vector)] : []));
    const errors: SyncError[] = [];
    let tokens = 0;
    const getToken = (): string => `t${++tokens}`;
    made = createClient({ baseUrl: "http://gw", userId: "u1", getToken, fetch: server.fetch, debounceMs: 60_000, name: `vector-${name}`, onError: (e) => errors.push(e) });
    const sdk = made;
    await until(() => server.reads.length > 0);
    vi.spyOn(Math, "random").mockReturnValue(0.5); // the jitter at its middle: no spread
    for (let n = 0; n < vector.batchSize; n++) await sdk.track(contentProgressed({ contentId: `c${n}`, status: "completed" }));
    for (let failed = 1; failed < vector.attempt; failed++) {
      sdk.flush().catch(() => undefined);
      await until(() => sdk.getStatus().retryCount === failed);
    }
    const seen: Status[] = [];
    sdk.subscribe((s) => seen.push(s));
    sdk.flush().catch(() => undefined);
    const quiet = (s: Status): boolean => s.state === "error" || (s.state === "idle" && s.pendingCount === 0);
    await until(() => seen.some((s) => quiet(s) || (s.state === "pending" && s.retryCount === vector.attempt)));
    const { jitter: _, ...expected } = vector.expect;
    expect(actionOf(vector, server, seen, errors, tokens)).toEqual(expected);
  });
});

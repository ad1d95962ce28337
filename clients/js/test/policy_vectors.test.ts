import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BACKOFF_MS, decide, MAX_RETRY_AFTER_MS, type Action } from "../src/policy.js";

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

// The retry policy both SDKs share (DESIGN "One client policy"): what to do with each answer.
// clients/golden/policy-vectors.json holds it as data; test/policy_vectors.test.ts runs it here
// and the Python SDK's tests run the same file. `decide()` is the one place this SDK reads a
// write's answer: a new retry rule goes there (and into the vectors).

/** Back-off steps for 5xx and network errors; after the last, every 60 s for ever. */
export const BACKOFF_MS = [1_000, 5_000, 15_000, 60_000] as const;

/** The longest wait a server's `Retry-After` can ask for (one bad header must not park a queue). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** The wait before retry number `attempt` (0-based), with ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] as number;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) in epoch ms; undefined if not one. Only a
 * date that formats back to exactly the same text is one: 31 Feb, a wrong weekday, a missing
 * `GMT` or an obsolete form are not.
 */
function httpDateMs(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) || new Date(ms).toUTCString() !== text ? undefined : ms;
}

/**
 * `Retry-After` in milliseconds from `now`: whole seconds (ASCII digits) or an IMF-fixdate,
 * capped at one hour; undefined if absent or anything else (the backoff step applies).
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  const ms = /^[0-9]+$/.test(text) ? Number(text) * 1000 : msUntil(httpDateMs(text), now);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

function msUntil(when: number | undefined, now: number): number | undefined {
  return when === undefined ? undefined : Math.max(0, when - now);
}

/** What a write's answer means for its batch. */
export type Verdict =
  | { kind: "accepted" }
  | { kind: "retry"; afterMs?: number }
  | { kind: "token" }
  | { kind: "split" }
  | { kind: "erased" }
  | { kind: "refused" };

/**
 * The verdict for a write answered with `status` (a network error is `retry`): Retry-After
 * is honoured on 429 and every 5xx; the caller backs off where it is missing. The live
 * stream's reading of a status: `decide()`'s for a first failure of a batch of two.
 */
export function verdictFor(status: number, retryAfter: string | null, now = Date.now()): Verdict {
  const action = decide({ status, retryAfter, attempt: 1, batchSize: 2 }, now);
  switch (action.action) {
    case "accept":
      return { kind: "accepted" };
    case "retry":
      return { kind: "retry", afterMs: retryAfterMs(retryAfter, now) };
    case "renew_token":
      return { kind: "token" };
    case "split":
      return { kind: "split" };
    case "drop_and_report":
      return { kind: "erased" };
    default:
      return { kind: "refused" };
  }
}

/** A write's answer with what the policy needs to know around it. */
export interface Answer {
  /** The HTTP status; null for a network error or a timeout. */
  status: number | null;
  retryAfter: string | null;
  /** Failures in a row, this one included (1: the first). */
  attempt: number;
  /** Events in the request. */
  batchSize: number;
  /** True if the request already carried a renewed token. */
  renewed?: boolean;
}

/** What the client does next, named as in clients/golden/policy-vectors.json. */
export type Action =
  | { action: "accept" }
  | { action: "retry"; delayMs: number }
  | { action: "renew_token" }
  | { action: "split" }
  | { action: "drop_and_report"; reason: "too_large" | "erased" }
  | { action: "error" };

/** The whole policy for one answer: the action, with the split, the token and the wait decided. */
export function decide(answer: Answer, now = Date.now(), random: () => number = Math.random): Action {
  const { status } = answer;
  if (status === null || status === 429 || status >= 500) {
    return { action: "retry", delayMs: retryAfterMs(answer.retryAfter, now) ?? backoffMs(answer.attempt - 1, random) };
  }
  if (status >= 200 && status < 300) return { action: "accept" };
  if (status === 401) return answer.renewed ? { action: "error" } : { action: "renew_token" };
  if (status === 413) return answer.batchSize > 1 ? { action: "split" } : { action: "drop_and_report", reason: "too_large" };
  return status === 410 ? { action: "drop_and_report", reason: "erased" } : { action: "error" };
}

// The retry policy both SDKs share (DESIGN "One client policy"): what to do with each answer.

/** Back-off steps for 5xx and network errors; after the last, every 60 s for ever. */
export const BACKOFF_MS = [1_000, 5_000, 15_000, 60_000] as const;

/** The wait before retry number `attempt` (0-based), with ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] as number;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds from `now`; undefined if absent. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
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
 * is honoured on 429 and every 5xx; the caller backs off where it is missing.
 */
export function verdictFor(status: number, retryAfter: string | null): Verdict {
  if (status >= 200 && status < 300) return { kind: "accepted" };
  if (status === 429 || status >= 500) return { kind: "retry", afterMs: retryAfterMs(retryAfter) };
  if (status === 401) return { kind: "token" };
  if (status === 413) return { kind: "split" };
  if (status === 410) return { kind: "erased" };
  return { kind: "refused" };
}

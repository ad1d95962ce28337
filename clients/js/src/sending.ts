// One upload attempt: PUT a batch with the user's token (a new one once, on a 401) and what
// the retry policy (policy.ts, held to clients/golden/policy-vectors.json) says its answer
// means. flusher.ts acts on the outcome.

import type { ProgressEvent } from "./events.generated.js";
import { decide, type Action } from "./policy.js";
import type { Fetch } from "./transport.js";

/** A 202's per-event result. */
export interface EventResult {
  eventId: string | null;
  status: "accepted" | "rejected";
  error?: string;
}

/** What came back from one write: the status, or null on a network error. */
export interface WriteAnswer {
  status: number | null;
  retryAfter: string | null;
  results: EventResult[];
  consistencyToken?: string;
}

/** An attempt's answer, the policy's action for it, and why there was no token if so. */
export interface Upload {
  answer: WriteAnswer;
  action: Exclude<Action, { action: "renew_token" }>;
  /** What the app's getToken() threw, as text; the answer is then a network error's. */
  tokenError?: string;
}

/**
 * PUT one user's `events` to `url`, asking `token(renew)` for the bearer token. Never throws:
 * a network error is an answer (`status: null`), and so is an app with no token to give (its
 * backend down, its user signed out), so the events stay queued and are retried with backoff.
 * `attempt` counts the batch's failures in a row, this one included.
 */
export async function upload(
  fetcher: Fetch,
  url: string,
  token: (renew: boolean) => Promise<string>,
  events: readonly ProgressEvent[],
  keepalive: boolean,
  attempt: number,
  renewed = false,
): Promise<Upload> {
  let answer: WriteAnswer = { status: null, retryAfter: null, results: [] };
  let bearer: string | undefined;
  let tokenError: string | undefined;
  try {
    bearer = await token(renewed);
    const response = await fetcher(url, {
      method: "PUT",
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
      keepalive,
    });
    const body = response.status === 202 ? ((await response.json()) as Partial<WriteAnswer>) : {};
    answer = { status: response.status, retryAfter: response.headers.get("Retry-After"), results: body.results ?? [], consistencyToken: body.consistencyToken };
  } catch (error) {
    if (bearer === undefined) tokenError = String(error);
  }
  const action = decide({ ...answer, attempt, batchSize: events.length, renewed });
  if (action.action === "renew_token") return upload(fetcher, url, token, events, keepalive, attempt, true);
  return { answer, action, tokenError };
}

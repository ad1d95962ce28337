// HTTP reads for the client: the read that pages through the cursor, and JSON reads (writes: sending.ts).

import type { ProgressEvent } from "./events.generated.js";
import type { Snapshot } from "./snapshot.js";

export type Fetch = typeof fetch;

/** The server's side of one user, as far as the client has read it. */
export interface ServerState {
  snapshot: Snapshot;
  cursor: string;
  /** Queued events the snapshot includes already (the live stream brought them before their
   * write was answered): the optimistic view must not fold them again. */
  has?: string[];
}

/** Thrown by `readProgress` on an answer other than 200. */
export class ReadError extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? "progress read failed: network error" : `progress read failed: HTTP ${status}`);
  }
}

/** GET `url` with the bearer `token`; throws a `ReadError` on a network error or a non-200. */
async function get(fetcher: Fetch, url: string, token: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetcher(url, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ReadError(null);
  }
  if (response.status !== 200) throw new ReadError(response.status);
  return response;
}

/** GET a JSON answer (`get`'s errors). */
export async function getJson<T>(fetcher: Fetch, url: string, token: string): Promise<T> {
  return (await (await get(fetcher, url, token)).json()) as T;
}

/** The most pages one read follows; the next read goes on from where this one stopped. */
export const MAX_PAGES = 100;

/**
 * The user's snapshot and every event after `cursor`: pages with `since` until `hasMore` is
 * false, the cursor stops advancing (a server that repeats itself) or `MAX_PAGES` were read.
 * Without a cursor, the snapshot and the current cursor. `waitFor` asks the server to
 * answer once the write with that consistency token is reflected (read-your-writes);
 * `consistent` says whether it was, within the wait.
 */
export async function readProgress(
  fetcher: Fetch,
  base: string,
  token: string,
  cursor: string | undefined,
  waitFor?: string,
  waitMs = 2000,
): Promise<ServerState & { eventIds: string[]; consistent: boolean }> {
  const eventIds: string[] = [];
  let consistent = false;
  let since = cursor;
  for (let pages = 1; ; pages++) {
    const query = new URLSearchParams();
    if (since !== undefined) query.set("since", since);
    if (waitFor) {
      query.set("waitFor", waitFor);
      query.set("waitMs", String(waitMs));
    }
    const response = await get(fetcher, `${base}?${query}`, token);
    if (waitFor) consistent = response.headers.get("Progress-Consistent") === "true";
    const page = (await response.json()) as { snapshot: Snapshot; events: ProgressEvent[]; cursor: string; hasMore: boolean };
    eventIds.push(...page.events.map((e) => e.eventId));
    if (!page.hasMore || since === undefined || page.cursor === since || pages === MAX_PAGES) {
      return { snapshot: page.snapshot, cursor: page.cursor, eventIds, consistent };
    }
    since = page.cursor;
    waitFor = undefined;
  }
}

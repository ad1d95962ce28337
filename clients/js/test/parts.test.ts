import { describe, expect, it, vi } from "vitest";
import { coalesceMedia, jsonBytes, KEEPALIVE_BYTES, nextBatch } from "../src/batching.js";
import { coordinate } from "../src/crosstab.js";
import type { ProgressEvent } from "../src/events.generated.js";
import { storageOutbox, type Entry } from "../src/outbox.js";
import { backoffMs, retryAfterMs, verdictFor } from "../src/policy.js";

const media = (seq: number, position: number, watched: number, extra: Partial<Entry> = {}): Entry => {
  const event = {
    eventId: `m${seq}`,
    occurredAt: `2026-01-01T10:00:0${seq}Z`,
    clientId: "c",
    type: "media.progressed",
    payload: { contentId: "v", positionSeconds: position, watchedSeconds: watched },
  } as ProgressEvent;
  return { seq, userId: "u1", event, size: jsonBytes(event), ...extra };
};

describe("coalesceMedia", () => {
  it("merges unsent reports into the latest one's queue slot under a new id", () => {
    const { remove, put } = coalesceMedia([media(1, 10, 10), media(2, 20, 10), media(3, 30, 10)], () => "new");
    expect(remove).toEqual([1, 2]);
    expect(put).toHaveLength(1);
    expect(put[0]).toMatchObject({ seq: 3, event: { eventId: "new", occurredAt: "2026-01-01T10:00:03Z", payload: { positionSeconds: 30, watchedSeconds: 30 } } });
  });

  it("never merges a report that went out, and keeps the furthest position on its own", () => {
    expect(coalesceMedia([media(1, 10, 1, { sent: true }), media(2, 20, 1)], () => "x").put).toEqual([]);
    const { remove, put } = coalesceMedia([media(1, 280, 5), media(2, 30, 5), media(3, 40, 5)], () => "x");
    expect(remove).toEqual([2]);
    expect(put[0]?.event.payload).toMatchObject({ positionSeconds: 40, watchedSeconds: 10 });
  });
});

describe("nextBatch", () => {
  it("takes the oldest entry's user only, within the byte bound", () => {
    const entries = [media(1, 1, 1), { ...media(2, 1, 1), userId: "u2" }, media(3, 1, 1)];
    expect(nextBatch(entries).map((e) => e.seq)).toEqual([1, 3]);
    const big = Array.from({ length: 40 }, (_, n) => ({ ...media(n, 1, 1), size: 2000 }));
    const batch = nextBatch(big, KEEPALIVE_BYTES);
    expect(batch.length).toBe(30);
    expect(batch.reduce((sum, e) => sum + e.size + 1, 16)).toBeLessThan(KEEPALIVE_BYTES);
  });
});

describe("the retry policy", () => {
  it("backs off 1, 5, 15, 60 s with jitter, then stays at 60 s", () => {
    expect([0, 1, 2, 3, 4, 50].map((n) => backoffMs(n, () => 0.5))).toEqual([1000, 5000, 15000, 60000, 60000, 60000]);
    expect(backoffMs(0, () => 0)).toBe(800);
    expect(backoffMs(3, () => 1)).toBe(72000);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
  });

  it("maps each answer to what the client does", () => {
    expect(verdictFor(202, null)).toEqual({ kind: "accepted" });
    expect(verdictFor(503, "2")).toEqual({ kind: "retry", afterMs: 2000 });
    expect(verdictFor(500, null)).toEqual({ kind: "retry", afterMs: undefined });
    expect(verdictFor(429, "1")).toEqual({ kind: "retry", afterMs: 1000 });
    expect([401, 413, 410, 400, 403, 422].map((s) => verdictFor(s, null).kind)).toEqual([
      "token",
      "split",
      "erased",
      "refused",
      "refused",
      "refused",
    ]);
  });
});

describe("the localStorage outbox", () => {
  it("adds, lists in order, updates atomically and keeps meta", async () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) } as Storage;
    const box = storageOutbox(storage, "p");
    const { seq: _, ...entry } = media(0, 1, 1);
    await box.add(entry);
    await box.add(entry);
    const [first, second] = await box.list();
    expect([first?.seq, second?.seq]).toEqual([1, 2]);
    await box.update([1], [{ ...second!, sent: true }]);
    expect(await box.list()).toEqual([{ ...second, sent: true }]);
    expect(await box.count()).toBe(1);
    await box.setMeta("server:u1", { cursor: "3" });
    expect(await storageOutbox(storage, "p").getMeta("server:u1")).toEqual({ cursor: "3" });
  });
});

describe("the flusher election without Web Locks", () => {
  it("makes exactly one of two tabs the flusher", async () => {
    const locks = navigator.locks;
    Object.defineProperty(globalThis, "navigator", { value: { onLine: true }, configurable: true });
    vi.stubGlobal("window", {});
    try {
      const leaders: string[] = [];
      const a = coordinate("election", () => leaders.push("a"), () => undefined);
      const b = coordinate("election", () => leaders.push("b"), () => undefined);
      await new Promise((r) => setTimeout(r, 4500));
      expect(leaders).toHaveLength(1);
      expect([a, b].filter((tab) => tab.isLeader())).toHaveLength(1);
      const [leader, other] = a.isLeader() ? [a, b] : [b, a];
      leader.close();
      await new Promise((r) => setTimeout(r, 4500));
      expect(leaders).toHaveLength(2);
      expect(other.isLeader()).toBe(true);
      other.close();
    } finally {
      vi.unstubAllGlobals();
      Object.defineProperty(globalThis, "navigator", { value: { locks, onLine: true }, configurable: true });
    }
  });
});

describe("the flusher outside a browser window", () => {
  it("is each client at once when there are no Web Locks (Node: a process is one tab)", async () => {
    const locks = navigator.locks;
    Object.defineProperty(globalThis, "navigator", { value: undefined, configurable: true });
    try {
      const leaders: string[] = [];
      const node = coordinate("node", () => leaders.push("node"), () => undefined);
      await new Promise((r) => setTimeout(r, 10));
      expect(leaders).toEqual(["node"]);
      node.close();
    } finally {
      Object.defineProperty(globalThis, "navigator", { value: { locks, onLine: true }, configurable: true });
    }
  });
});

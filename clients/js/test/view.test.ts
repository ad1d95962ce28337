import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ProgressEvent } from "../src/events.generated.js";
import { reduce } from "../src/reducer.js";
import { emptySnapshot } from "../src/snapshot.js";
import { canonicalTime } from "../src/time.js";
import { OptimisticView } from "../src/view.js";

const golden = JSON.parse(readFileSync(new URL("../../golden/reducer-vectors.json", import.meta.url), "utf8")) as {
  tenantId: string;
  userId: string;
  vectors: { name: string; events: ProgressEvent[] }[];
};

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe("the optimistic view", () => {
  // Every golden vector (late, duplicate, retracted and reset events included), appended one
  // event at a time with a read after each, equals the full fold of what was appended so far.
  it.each(golden.vectors.map((v) => [v.name, v.events] as const))("%s, event by event", (_name, events) => {
    const seen: ProgressEvent[] = [];
    const base = emptySnapshot(golden.tenantId, golden.userId);
    const view = new OptimisticView(() => ({ base, events: seen }));
    view.get();
    for (const [index, event] of events.entries()) {
      seen.push(event);
      view.append(event, canonicalTime(event.occurredAt));
      if (index % 2 === 0) expect(plain(view.get())).toStrictEqual(plain(reduce(seen, golden.tenantId, golden.userId)));
    }
    expect(plain(view.get())).toStrictEqual(plain(reduce(seen, golden.tenantId, golden.userId)));
  });

  it("folds only the new events when they sort after the rest", () => {
    const events: ProgressEvent[] = [];
    const base = emptySnapshot("t", "u");
    let folds = 0;
    const view = new OptimisticView(() => {
      folds += 1;
      return { base, events };
    });
    for (let n = 0; n < 50; n++) {
      const event = {
        eventId: `e${String(n).padStart(3, "0")}`,
        occurredAt: `2026-01-01T10:00:${String(n).padStart(2, "0")}Z`,
        clientId: "c",
        type: "content.progressed",
        payload: { contentId: `s${n}`, status: "completed" },
      } as ProgressEvent;
      events.push(event);
      view.append(event, canonicalTime(event.occurredAt));
      expect(view.get().eventCount).toBe(n + 1);
    }
    expect(folds).toBe(1);
  });
});

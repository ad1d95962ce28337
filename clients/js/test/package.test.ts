import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ES module scripts without type declarations
import { generate, OUTPUT_PATH, SCHEMA_PATH } from "../scripts/generate-events.mjs";
// @ts-expect-error: plain ES module scripts without type declarations
import { bundleSize, ENTRIES, LIMIT_BYTES, LIVE_LIMIT_BYTES } from "../scripts/size.mjs";

describe("the package", () => {
  it("has event types generated from the current contract schema", () => {
    const fresh = generate(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
    expect(readFileSync(OUTPUT_PATH, "utf8"), "run `npm run generate`").toBe(fresh);
    expect((fresh.match(/^export const \w+ = /gm) ?? []).length).toBe(11);
  });

  it("builds a core under 12 kB minified and gzipped, and the Node outbox, React binding and live stream beside it", () => {
    execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "pipe" });
    for (const entry of ENTRIES as string[]) {
      const { raw, gzipped } = bundleSize(entry);
      console.log(`${entry}: ${raw} bytes minified, ${gzipped} bytes gzipped`);
    }
    expect(bundleSize().gzipped).toBeLessThan(LIMIT_BYTES);
    expect(bundleSize("live.js").gzipped).toBeLessThan(LIVE_LIMIT_BYTES);
    const code = (entry: string): string => readFileSync(new URL(`../dist/${entry}`, import.meta.url), "utf8");
    const imports = (text: string): string[] => [...text.matchAll(/\bimport\s*[^(;]*?from\s*["']([^"']+)["']/g)].map((m) => m[1] as string);
    expect(imports(code("progress-sync.js"))).toEqual([]);
    expect(code("progress-sync.js")).toContain('import("./file-outbox.js")');
    expect(imports(code("react.js"))).toEqual(["react"]);
    expect(code("react.js")).toContain('import("./live.js")');
    expect(imports(code("live.js"))).toEqual(["./progress-sync.js"]);
    expect(imports(code("file-outbox.js")).every((name) => name.startsWith("node:"))).toBe(true);
  });

  it("loads in plain Node and syncs from a file outbox", () => {
    const work = mkdtempSync(join(tmpdir(), "progress-sync-node-"));
    const script = `
      import { createClient, contentProgressed } from ${JSON.stringify(new URL("../dist/progress-sync.js", import.meta.url).href)};
      const sent = [];
      const fetch = async (url, init) => {
        if (init?.method === "PUT") {
          const events = JSON.parse(init.body).events;
          sent.push(...events.map((e) => e.payload.contentId));
          return Response.json({ accepted: events.length, rejected: 0, results: events.map((e) => ({ eventId: e.eventId, status: "accepted" })) }, { status: 202 });
        }
        return Response.json({ snapshot: { tenantId: "t", userId: "u1", items: {}, courses: {}, eventCount: 0 }, events: [], cursor: "0", hasMore: false });
      };
      const client = createClient({ baseUrl: "http://gw", userId: "u1", getToken: () => "t", fetch, debounceMs: 10 });
      await client.track(contentProgressed({ contentId: "lesson-1", status: "completed" }));
      await client.flush();
      console.log(JSON.stringify({ sent, status: client.getStatus().state }));
      client.close();`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: work, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ sent: ["lesson-1"], status: "idle" });
    expect(readdirSync(join(work, ".progress-sync"))).toEqual(["default.outbox.jsonl"]);
  });
});

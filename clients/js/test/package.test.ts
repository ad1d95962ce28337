import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ES module scripts without type declarations
import { generate, OUTPUT_PATH, SCHEMA_PATH } from "../scripts/generate-events.mjs";
// @ts-expect-error: plain ES module scripts without type declarations
import { bundleSize, LIMIT_BYTES } from "../scripts/size.mjs";

describe("the package", () => {
  it("has event types generated from the current contract schema", () => {
    const fresh = generate(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
    expect(readFileSync(OUTPUT_PATH, "utf8"), "run `npm run generate`").toBe(fresh);
    expect((fresh.match(/^export const \w+ = /gm) ?? []).length).toBe(11);
  });

  it("builds to one bundle under 12 kB minified and gzipped", () => {
    execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "pipe" });
    const { raw, gzipped } = bundleSize();
    console.log(`bundle: ${raw} bytes minified, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThan(LIMIT_BYTES);
    const code = readFileSync(new URL("../dist/progress-sync.js", import.meta.url), "utf8");
    expect(code).not.toMatch(/\bimport\s*[^(]*from\s*["']/);
  });
});

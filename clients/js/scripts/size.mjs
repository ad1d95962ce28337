// The built entry points' sizes, minified and gzipped: `npm run size` prints them and fails
// when the core or the live stream is over its bound.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "../dist");
/** The files the build writes; the first is the core. */
export const ENTRIES = ["progress-sync.js", "file-outbox.js", "react.js", "live.js"];
/** The bound the issue sets: the minified, gzipped core stays under 12 kB. */
export const LIMIT_BYTES = 12_000;
/** `progress-sync/live` (the core's parts it uses are not in it): under 2.5 kB. */
export const LIVE_LIMIT_BYTES = 2_500;

/** Bytes of dist/`entry` (the core by default), minified and gzipped. */
export function bundleSize(entry = ENTRIES[0]) {
  const code = readFileSync(join(DIST, entry));
  return { raw: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const entry of ENTRIES) {
    const { raw, gzipped } = bundleSize(entry);
    console.log(`dist/${entry}: ${raw} bytes minified, ${gzipped} bytes gzipped`);
  }
  process.exit(bundleSize().gzipped < LIMIT_BYTES && bundleSize("live.js").gzipped < LIVE_LIMIT_BYTES ? 0 : 1);
}

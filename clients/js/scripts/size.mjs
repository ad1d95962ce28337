// The bundle's size, minified and gzipped: `npm run size` prints it.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "../dist/progress-sync.js");
/** The bound the issue sets: the minified, gzipped bundle stays under 12 kB. */
export const LIMIT_BYTES = 12_000;

export function bundleSize() {
  const code = readFileSync(BUNDLE);
  return { raw: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { raw, gzipped } = bundleSize();
  console.log(`dist/progress-sync.js: ${raw} bytes minified, ${gzipped} bytes gzipped (limit ${LIMIT_BYTES})`);
  process.exit(gzipped < LIMIT_BYTES ? 0 : 1);
}

// Builds dist/progress-sync.js (one minified ES module, idb and uuidv7 bundled in) and the
// type declarations, then prints the gzipped size.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleSize } from "./size.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [join(root, "src/index.ts")],
  outfile: join(root, "dist/progress-sync.js"),
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: "es2022",
  legalComments: "eof",
});
execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", root], { stdio: "inherit" });
const { raw, gzipped } = bundleSize();
console.log(`dist/progress-sync.js: ${raw} bytes, ${gzipped} bytes gzipped`);

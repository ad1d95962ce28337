// Builds the package's entry points into dist/, each one minified ES module, then the type
// declarations, and prints the gzipped size of each:
//   progress-sync.js  the core (idb and uuidv7 bundled in), for browsers and Node
//   file-outbox.js    the Node outbox, loaded by the core only where there is no browser storage
//   react.js          the React binding (`progress-sync/react`); React itself stays a peer
//   live.js           the live stream (`progress-sync/live`), loaded by the core's live()
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleSize, ENTRIES } from "./size.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Imports of the core's own modules stay imports of the built files beside it. */
const siblings = {
  name: "siblings",
  setup(b) {
    b.onResolve({ filter: /^\.\/(index|file-outbox|live)\.js$/ }, (args) =>
      args.importer.endsWith("index.ts") && args.path === "./index.js"
        ? undefined
        : { path: args.path === "./index.js" ? "./progress-sync.js" : args.path, external: true },
    );
  },
};

const common = { bundle: true, format: "esm", minify: true, sourcemap: true, target: "es2022", legalComments: "linked", plugins: [siblings] };
await build({ ...common, entryPoints: [join(root, "src/index.ts")], outfile: join(root, "dist/progress-sync.js") });
await build({ ...common, entryPoints: [join(root, "src/file-outbox.ts")], outfile: join(root, "dist/file-outbox.js"), platform: "node" });
await build({ ...common, entryPoints: [join(root, "src/live.ts")], outfile: join(root, "dist/live.js") });
await build({ ...common, entryPoints: [join(root, "src/react.ts")], outfile: join(root, "dist/react.js"), external: ["react"] });
execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", root], { stdio: "inherit" });
for (const entry of ENTRIES) {
  const { raw, gzipped } = bundleSize(entry);
  console.log(`dist/${entry}: ${raw} bytes, ${gzipped} bytes gzipped`);
}

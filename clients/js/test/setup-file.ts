// The node-file project: no IndexedDB and no localStorage, so the client keeps its outbox in
// a file, as in Node; each test file works in a fresh directory of its own.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "./setup-locks.js";

process.chdir(mkdtempSync(join(tmpdir(), "progress-sync-")));

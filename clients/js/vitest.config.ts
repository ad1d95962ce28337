import { defineConfig } from "vitest/config";

// The client's tests run twice: over IndexedDB as in a browser, and over the file outbox as
// in Node. The rest run once.
const both = ["test/client.test.ts", "test/calls.test.ts", "test/doublecount.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    projects: [
      { test: { name: "browser-storage", include: ["test/**/*.test.ts"], setupFiles: ["test/setup.ts"], testTimeout: 20_000 } },
      { test: { name: "node-file", include: both, setupFiles: ["test/setup-file.ts"], testTimeout: 20_000 } },
    ],
  },
});

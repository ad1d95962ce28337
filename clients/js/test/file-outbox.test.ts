// The Node outbox: a write commits once appended (it survives a killed process), a torn last
// line from a crash mid-write loses nothing committed, and the file is fsynced within 100 ms.
import { spawn } from "node:child_process";
import { mkdtempSync, appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { fileOutbox } from "../src/file-outbox.js";
import type { NewEntry } from "../src/outbox.js";

const dir = (): string => mkdtempSync(join(tmpdir(), "progress-sync-file-"));
const entry = (id: string): NewEntry => ({ userId: "u1", event: { eventId: id, occurredAt: "2026-12-01T09:00:00Z", clientId: "c", type: "onboarding.reset" }, size: 90 });

describe("the file outbox", () => {
  it("keeps entries, their order, updates and metadata across a reopen", async () => {
    const path = join(dir(), "box.outbox.jsonl");
    const box = await fileOutbox(path);
    for (const id of ["a", "b", "c"]) await box.add(entry(id));
    const [a, b] = await box.list();
    await box.update([(a as { seq: number }).seq], [{ ...(b as NewEntry), sent: true }]);
    await box.setMeta("server:u1", { cursor: "7" });
    box.close();
    await new Promise((r) => setTimeout(r, 20));
    const again = await fileOutbox(path);
    expect((await again.list()).map((e) => [e.event.eventId, e.sent ?? false])).toEqual([["b", true], ["c", false]]);
    expect(await again.getMeta("server:u1")).toEqual({ cursor: "7" });
    await again.add(entry("d"));
    expect((await again.list()).map((e) => e.seq)).toEqual([2, 3, 4]);
    again.close();
  });

  it("loses nothing committed when a crash tore the last line", async () => {
    const path = join(dir(), "box.outbox.jsonl");
    const box = await fileOutbox(path);
    for (const id of ["a", "b"]) await box.add(entry(id));
    box.close();
    await new Promise((r) => setTimeout(r, 20));
    appendFileSync(path, '{"a":"put","e":[{"seq":3,"userId":"u1","ev');
    const again = await fileOutbox(path);
    expect((await again.list()).map((e) => e.event.eventId)).toEqual(["a", "b"]);
    await again.add(entry("c"));
    again.close();
    await new Promise((r) => setTimeout(r, 20));
    const third = await fileOutbox(path);
    expect((await third.list()).map((e) => e.event.eventId)).toEqual(["a", "b", "c"]);
    third.close();
  });

  it("keeps every write that resolved before the process was killed", async () => {
    const work = dir();
    const path = join(work, "box.outbox.jsonl");
    await build({ entryPoints: [join(__dirname, "../src/file-outbox.ts")], outfile: join(work, "file-outbox.mjs"), bundle: true, format: "esm", platform: "node" });
    writeFileSync(
      join(work, "writer.mjs"),
      `import { fileOutbox } from "./file-outbox.mjs";
       const box = await fileOutbox(${JSON.stringify(path)}, { syncEveryMs: 60_000 });
       for (let n = 0; ; n++) {
         await box.add({ userId: "u1", event: { eventId: "e" + n }, size: 10 });
         process.stdout.write("e" + n + "\\n");
       }`,
    );
    const child = spawn(process.execPath, [join(work, "writer.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
    const committed: string[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      committed.push(line);
      if (committed.length === 200) {
        child.kill("SIGKILL");
        break;
      }
    }
    await new Promise((r) => child.once("exit", r));
    const box = await fileOutbox(path);
    const kept = new Set((await box.list()).map((e) => e.event.eventId));
    box.close();
    expect(committed.filter((id) => !kept.has(id))).toEqual([]);
    expect(readFileSync(path, "utf8").length).toBeGreaterThan(0);
  });

  it("fsyncs within syncEveryMs of a write, and not while idle", async () => {
    const syncs: number[] = [];
    const box = await fileOutbox(join(dir(), "box.outbox.jsonl"), { onSync: () => syncs.push(Date.now()) });
    const written = Date.now();
    await box.add(entry("a"));
    await new Promise((r) => setTimeout(r, 250));
    expect(syncs).toHaveLength(1);
    expect((syncs[0] as number) - written).toBeLessThan(250);
    await new Promise((r) => setTimeout(r, 250));
    expect(syncs).toHaveLength(1);
    box.close();
  });

  it("is one outbox for the clients of one process that open the same file", async () => {
    const path = join(dir(), "box.outbox.jsonl");
    const [first, second] = [await fileOutbox(path), await fileOutbox(path)];
    await first.add(entry("a"));
    expect((await second.list()).map((e) => e.event.eventId)).toEqual(["a"]);
    first.close();
    await second.add(entry("b"));
    expect(await second.count()).toBe(2);
    second.close();
  });
});

describe("the file outbox's owner", () => {
  it("is one process: another live one is refused, a dead one's lock is taken over", async () => {
    const path = join(dir(), "box.outbox.jsonl");
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    writeFileSync(`${path}.lock`, String(sleeper.pid));
    await expect(fileOutbox(path)).rejects.toThrow(`in use by process ${sleeper.pid}`);
    sleeper.kill("SIGKILL");
    await new Promise((r) => sleeper.once("exit", r));
    const box = await fileOutbox(path);
    expect(readFileSync(`${path}.lock`, "utf8")).toBe(String(process.pid));
    box.close();
  });
});

/// <reference types="node" />
// The outbox in Node: an append-only file of JSON lines, one per operation, replayed on open.
// A write commits once appended (in the operating system's hands, so it survives a kill of
// the process); the file is fsynced at most `syncEveryMs` (100 ms) after a write. Power loss
// within that window is out of scope. Loaded only in Node, by `openOutbox`.

import { closeSync, fdatasync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { Entry, NewEntry, Outbox } from "./outbox.js";

/** One line of the file: entries deleted (`d`) and written (`e`) together, or metadata. */
type Op = { a: "put"; e: Entry[]; d?: number[] } | { a: "meta"; k: string; v: unknown };

/** Tuning for tests and benches. */
export interface FileOutboxOptions {
  /** Most milliseconds from a write to its fsync (default 100). */
  syncEveryMs?: number;
  /** Told after each fsync. */
  onSync?: () => void;
}

const shared = new Map<string, { box: Promise<Outbox>; users: number }>();

/**
 * The outbox stored in the file `path` (created with its directory). Clients of one process
 * that open the same path share one outbox, as tabs do in a browser; the file itself belongs
 * to one process at a time (another one is refused while this one lives).
 */
export async function fileOutbox(path: string, options: FileOutboxOptions = {}): Promise<Outbox> {
  let opened = shared.get(path);
  if (!opened) {
    opened = { box: openFile(path, options, () => shared.delete(path)), users: 0 };
    shared.set(path, opened);
    opened.box.catch(() => shared.delete(path));
  }
  const mine = opened;
  mine.users += 1;
  const box = await mine.box;
  let closed = false;
  return {
    ...box,
    close() {
      if (closed) return;
      closed = true;
      mine.users -= 1;
      if (mine.users === 0) box.close();
    },
  };
}

/** Replay the file's operations; a torn last line (a crash mid-append) was never committed. */
function replay(text: string): { entries: Map<number, Entry>; meta: Map<string, unknown>; seq: number } {
  const entries = new Map<number, Entry>();
  const meta = new Map<string, unknown>();
  let seq = 0;
  for (const line of text.split("\n")) {
    let op: Op;
    try {
      op = JSON.parse(line) as Op;
    } catch {
      continue;
    }
    if (op.a === "put") {
      for (const s of op.d ?? []) entries.delete(s);
      for (const entry of op.e) {
        entries.set(entry.seq, entry);
        seq = Math.max(seq, entry.seq);
      }
    } else {
      meta.set(op.k, op.v);
    }
  }
  return { entries, meta, seq };
}

/**
 * Claim `path` for this process with the file `<path>.lock` holding its pid: a second process
 * would compact the file away under the first one's appends. A lock whose process is gone
 * (a crash) is taken over.
 */
function claim(path: string): void {
  const lock = `${path}.lock`;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(readFileSync(lock, "utf8"));
    if (owner !== process.pid && alive(owner)) {
      throw new Error(`the outbox ${path} is in use by process ${owner}: give each process its own name or directory`);
    }
    rmSync(lock, { force: true });
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function openFile(path: string, options: FileOutboxOptions, forget: () => void): Promise<Outbox> {
  mkdirSync(dirname(path), { recursive: true });
  claim(path);
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const state = replay(text);
  // Start from a compact file: the live entries and the metadata, written aside, synced and
  // renamed over the old one, so a crash during compaction leaves one of the two whole.
  const lines = [
    ...(state.entries.size ? [JSON.stringify({ a: "put", e: [...state.entries.values()] } satisfies Op)] : []),
    ...[...state.meta].map(([k, v]) => JSON.stringify({ a: "meta", k, v } satisfies Op)),
  ];
  const aside = await open(`${path}.compact`, "w");
  await aside.writeFile(lines.map((l) => `${l}\n`).join(""));
  await aside.sync();
  await aside.close();
  await rename(`${path}.compact`, path);
  const fd = openSync(path, "a");
  let dirty = false;
  let syncing = false;
  let closed = false;
  // Beside the appends: a write never waits for a disk flush.
  const timer = setInterval(() => {
    if (!dirty || syncing) return;
    dirty = false;
    syncing = true;
    fdatasync(fd, (error) => {
      syncing = false;
      if (!error) options.onSync?.();
      if (closed) closeSync(fd);
    });
  }, options.syncEveryMs ?? 100);
  timer.unref?.();
  /**
   * Append one operation and apply it. The write is synchronous: a few microseconds into the
   * page cache, without a hop through libuv's thread pool, which a busy machine makes slow.
   */
  const append = async (op: Op, apply: () => void): Promise<void> => {
    writeSync(fd, `${JSON.stringify(op)}\n`);
    apply();
    dirty = true;
  };
  const sorted = (): Entry[] => [...state.entries.values()].sort((a, b) => a.seq - b.seq);
  const number = (entry: NewEntry): Entry => ({ ...entry, seq: entry.seq ?? ++state.seq });
  return {
    add(entry) {
      const numbered = number(entry);
      return append({ a: "put", e: [numbered] }, () => state.entries.set(numbered.seq, numbered));
    },
    async list(limit = Infinity) {
      return sorted().slice(0, limit);
    },
    update(remove, put = []) {
      const numbered = put.map(number);
      const apply = (): void => {
        for (const s of remove) state.entries.delete(s);
        for (const entry of numbered) state.entries.set(entry.seq, entry);
      };
      // One line, so that the deletions and the writes commit together.
      return append({ a: "put", e: numbered, d: [...remove] }, apply);
    },
    async count() {
      return state.entries.size;
    },
    async getMeta<T>(key: string) {
      return state.meta.get(key) as T | undefined;
    },
    setMeta(key, value) {
      return append({ a: "meta", k: key, v: value }, () => state.meta.set(key, value));
    },
    close() {
      clearInterval(timer);
      forget();
      closed = true;
      rmSync(`${path}.lock`, { force: true });
      if (syncing) return; // the sync under way closes the file
      syncing = true;
      fdatasync(fd, () => closeSync(fd));
    },
  };
}

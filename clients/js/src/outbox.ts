// The durable outbox: events wait here, in IndexedDB (localStorage where IndexedDB is missing),
// until the server accepted or permanently refused them. Every tab of an origin shares it.

import { openDB, type IDBPDatabase } from "idb";
import type { ProgressEvent } from "./events.generated.js";

/** One queued event and the user it belongs to (a queue may outlive a sign-in). */
export interface Entry {
  /** Queue position, given by the outbox. */
  seq: number;
  userId: string;
  event: ProgressEvent;
  /** Bytes of the event's JSON, for batch limits. */
  size: number;
  /** Set once the event went out in a request: it may be stored, so it is resent unchanged. */
  sent?: true;
}

/** An entry before the outbox gives it a queue position. */
export type NewEntry = Omit<Entry, "seq"> & { seq?: number };

/** The outbox's operations; each one is durable when its promise resolves. */
export interface Outbox {
  add(entry: NewEntry): Promise<void>;
  /** The oldest `limit` entries, oldest first. */
  list(limit?: number): Promise<Entry[]>;
  /** Delete `remove` and write `put` (new or changed entries) in one transaction. */
  update(remove: readonly number[], put?: readonly NewEntry[]): Promise<void>;
  count(): Promise<number>;
  getMeta<T>(key: string): Promise<T | undefined>;
  setMeta(key: string, value: unknown): Promise<void>;
  close(): void;
}

/** Where an outbox lives: a browser's IndexedDB or localStorage, or a file in Node. */
export type StorageKind = "indexeddb" | "localstorage" | "file";

/**
 * Open the outbox `name`: IndexedDB where the browser has it, else localStorage; in Node
 * (neither of them), the file `<directory>/<name>.outbox.jsonl` (see file-outbox.ts).
 */
export async function openOutbox(name: string, prefer?: StorageKind, directory = ".progress-sync"): Promise<Outbox> {
  const browser = typeof indexedDB !== "undefined" || typeof localStorage !== "undefined";
  if (prefer === "file" || (prefer === undefined && !browser)) {
    // A module of its own, left out of the browser bundle (scripts/build.mjs).
    const { fileOutbox } = await import("./file-outbox.js");
    return fileOutbox(`${directory}/${encodeURIComponent(name)}.outbox.jsonl`);
  }
  if (prefer !== "localstorage" && typeof indexedDB !== "undefined") {
    try {
      return idbOutbox(await openDB(`progress-sync:${name}`, 1, { upgrade: createStores }));
    } catch (error) {
      if (typeof localStorage === "undefined") throw error;
    }
  }
  return storageOutbox(localStorage, `progress-sync:${name}`);
}

function createStores(db: IDBPDatabase): void {
  db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
  db.createObjectStore("meta");
}

function idbOutbox(db: IDBPDatabase): Outbox {
  return {
    async add(entry) {
      // A quota error rejects here; the client turns it into its error state.
      await db.add("outbox", entry);
    },
    async list(limit = Infinity) {
      const entries: Entry[] = [];
      let cursor = await db.transaction("outbox").store.openCursor();
      while (cursor && entries.length < limit) {
        entries.push(cursor.value as Entry);
        cursor = await cursor.continue();
      }
      return entries;
    },
    async update(remove, put = []) {
      const tx = db.transaction("outbox", "readwrite");
      await Promise.all([...remove.map((seq) => tx.store.delete(seq)), ...put.map((e) => tx.store.put(e)), tx.done]);
    },
    count: () => db.count("outbox"),
    getMeta: (key) => db.get("meta", key),
    async setMeta(key, value) {
      await db.put("meta", value, key);
    },
    close: () => db.close(),
  };
}

/** The fallback: the whole queue as one JSON value per key (small queues, older browsers). */
export function storageOutbox(storage: Storage, prefix: string): Outbox {
  const read = (): Entry[] => JSON.parse(storage.getItem(`${prefix}:outbox`) ?? "[]") as Entry[];
  // setItem throws on a full quota, so the caller's promise rejects: nothing is lost silently.
  const write = (entries: Entry[]): void => storage.setItem(`${prefix}:outbox`, JSON.stringify(entries));
  const nextSeq = (): number => {
    const seq = Number(storage.getItem(`${prefix}:seq`) ?? "0") + 1;
    storage.setItem(`${prefix}:seq`, String(seq));
    return seq;
  };
  return {
    async add(entry) {
      write([...read(), { ...entry, seq: entry.seq ?? nextSeq() }]);
    },
    async list(limit = Infinity) {
      return read().slice(0, limit);
    },
    async update(remove, put = []) {
      const drop = new Set([...remove, ...put.map((e) => e.seq)]);
      const kept = read().filter((e) => !drop.has(e.seq));
      const added = put.map((e) => ({ ...e, seq: e.seq ?? nextSeq() }));
      write([...kept, ...added].sort((a, b) => a.seq - b.seq));
    },
    async count() {
      return read().length;
    },
    async getMeta<T>(key: string) {
      const text = storage.getItem(`${prefix}:meta:${key}`);
      return text === null ? undefined : (JSON.parse(text) as T);
    },
    async setMeta(key, value) {
      storage.setItem(`${prefix}:meta:${key}`, JSON.stringify(value));
    },
    close() {},
  };
}

// Browser APIs Node lacks that the tests stand in for: Web Locks and navigator.onLine (both
// projects), and IndexedDB (fake-indexeddb) in the browser-storage project only.

type Granted = () => Promise<unknown>;
const queues = new Map<string, Granted[]>();

async function run(name: string): Promise<void> {
  const queue = queues.get(name) ?? [];
  const next = queue[0];
  if (!next) return;
  await next();
  queue.shift();
  void run(name);
}

/** An in-process lock manager with the Web Locks `request(name, callback)` behaviour. */
const locks = {
  request(name: string, callback: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve) => {
      const queue = queues.get(name) ?? [];
      queues.set(name, queue);
      queue.push(() => callback().then(resolve));
      if (queue.length === 1) setTimeout(() => void run(name), 0);
    });
  },
};

Object.defineProperty(globalThis, "navigator", { value: { locks, onLine: true, userAgent: "vitest" }, configurable: true });

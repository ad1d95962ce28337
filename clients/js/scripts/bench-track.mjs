// track() latency with 10,000 events pending: p50/p99 of 1,000 calls, each timed until its
// outbox write committed. Runs the built bundle on Node with fake-indexeddb (an in-memory
// IndexedDB). `python -m bench.browser_track` runs the same loop in Chromium (real IndexedDB).
import "fake-indexeddb/auto";
import { contentProgressed, createClient } from "../dist/progress-sync.js";

const PENDING = Number(process.env.PENDING ?? 10_000);
const SAMPLES = 1_000;
const client = createClient({
  baseUrl: "http://127.0.0.1:9",
  userId: "bench",
  getToken: () => "unused",
  name: "bench",
  debounceMs: 3_600_000,
  maxWaitMs: 3_600_000,
  fetch: () => new Promise(() => undefined),
});
const step = (n) => contentProgressed({ contentId: `step-${n}`, status: "completed", score: n % 100 });
for (let n = 0; n < PENDING; n++) await client.track(step(n));
const times = [];
for (let n = 0; n < SAMPLES; n++) {
  const started = performance.now();
  await client.track(step(PENDING + n));
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3);
console.log(JSON.stringify({ pending: PENDING, samples: SAMPLES, p50Ms: Number(at(0.5)), p99Ms: Number(at(0.99)), maxMs: Number(at(1)) }));
client.close();
process.exit(0);

// The track() timing loop both benches run (bench/browser_track.py in Chromium, node_track.mjs
// in Node): queue `pending` events (the flush debounce is an hour, the network never
// answers), then time `samples` more calls, each until its outbox write resolved.
export async function timeTrack(sdk, { pending, samples, run, listen }) {
  const client = sdk.createClient({
    baseUrl: "http://127.0.0.1:9",
    userId: "bench",
    getToken: () => "unused",
    name: `bench-${run}-${listen}`,
    debounceMs: 3_600_000,
    maxWaitMs: 3_600_000,
    fetch: () => new Promise(() => undefined),
  });
  if (listen) client.onSnapshot(() => undefined);
  const step = (n) => sdk.contentProgressed({ contentId: `step-${n}`, status: "completed", score: n % 100 });
  for (let n = 0; n < pending; n++) await client.track(step(n));
  const times = [];
  for (let n = 0; n < samples; n++) {
    const started = performance.now();
    await client.track(step(pending + n));
    times.push(performance.now() - started);
  }
  client.close();
  return times;
}

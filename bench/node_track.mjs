// The JS SDK's track() latency in Node, with its file outbox: queue `pending` events (the
// flush debounce is an hour, the network never answers), then time `samples` more calls,
// each until its outbox append resolved. Prints the times in milliseconds as one JSON array.
// Run by bench/browser_track.py: node bench/node_track.mjs <bundle URL> <pending> <samples>.
const [bundle, pending, samples] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const sdk = await import(bundle);
const client = sdk.createClient({
  baseUrl: "http://127.0.0.1:9",
  userId: "bench",
  getToken: () => "unused",
  name: "bench",
  debounceMs: 3_600_000,
  maxWaitMs: 3_600_000,
  fetch: () => new Promise(() => undefined),
});
const step = (n) => sdk.contentProgressed({ contentId: `step-${n}`, status: "completed", score: n % 100 });
for (let n = 0; n < pending; n++) await client.track(step(n));
const times = [];
for (let n = 0; n < samples; n++) {
  const started = performance.now();
  await client.track(step(pending + n));
  times.push(performance.now() - started);
}
console.log(JSON.stringify(times));
client.close();
process.exit(0);

// The JS SDK's track() latency in Node, with its file outbox (bench/track_loop.mjs). Prints
// the times in milliseconds as one JSON array. Run by bench/browser_track.py:
// node bench/node_track.mjs <bundle URL> <pending> <samples>, in a fresh working directory.
import { timeTrack } from "./track_loop.mjs";

const [bundle, pending, samples] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const times = await timeTrack(await import(bundle), { pending, samples, run: 0, listen: false });
console.log(JSON.stringify(times));
process.exit(0);

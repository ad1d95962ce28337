// The demo's second device: the same learner with a client of its own (its own outbox and
// clientId), following the learner's changes live and showing only what its SDK says.
import { createClient } from "./progress-sync.js";
import { live } from "./live.js";
import { getToken, LESSONS, outlineEntry } from "./lessons.js";

const $ = (id) => document.getElementById(id);
const config = await (await fetch("./config.json")).json();
const learner = new URLSearchParams(location.search).get("user");
const client = createClient({ baseUrl: config.gatewayUrl, userId: learner, getToken, name: "demo-second-device" });
window.device = { client };

function render(snapshot) {
  $("outline").replaceChildren(...LESSONS.map((lesson) => outlineEntry(lesson, snapshot.items[lesson.id])));
}

client.onSnapshot(render);
client.subscribe(({ live }) => {
  $("live").dataset.live = live;
  $("live").textContent = live;
});
render(client.getSnapshot());
live(client);

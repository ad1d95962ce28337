// The demo course player: every learner action is one track() call, and the page renders
// only what the SDK says: getSnapshot() (server state plus pending events) and the status.
import {
  contentProgressed,
  courseCompleted,
  createClient,
  mediaProgressed,
  progressReset,
  quizAttempted,
} from "./progress-sync.js";
import { clock, COURSE, getToken, LESSONS, outlineEntry, QUIZ, READING, VIDEO } from "./lessons.js";

const $ = (id) => document.getElementById(id);
const config = await (await fetch("./config.json")).json();
const learner = new URLSearchParams(location.search).get("user") ?? storedLearner();
$("learner").textContent = learner;
// The second device beside the player: a page of its own, as another device would be.
$("device").src = `device.html?${new URLSearchParams({ user: learner })}`;

// The two switches simulate what a newcomer wants to see without devtools: no network, and
// a gateway that no longer accepts this page's token (every request then carries a bad one).
const simulated = { offline: false, revoked: false };
const browserOnline = Object.getOwnPropertyDescriptor(Navigator.prototype, "onLine").get;
Object.defineProperty(navigator, "onLine", {
  configurable: true,
  get: () => !simulated.offline && browserOnline.call(navigator),
});

const client = createClient({
  baseUrl: config.gatewayUrl,
  userId: learner,
  getToken,
  name: "demo",
  fetch: (url, init = {}) => {
    if (simulated.offline) return Promise.reject(new TypeError("offline (simulated)"));
    if (!simulated.revoked) return fetch(url, init);
    return fetch(url, { ...init, headers: { ...init.headers, Authorization: "Bearer revoked" } });
  },
  onError: (error) => note(`error: ${error.message}`),
});
window.demo = { client, simulated, watched: 0 };

// The video: a simulated player whose heartbeat is one track() per second of playback.
const player = { playing: false, position: 0, timer: undefined };
$("play").addEventListener("click", () => (player.playing ? pause() : play()));
$("seek").addEventListener("change", () => {
  player.position = Number($("seek").value);
  heartbeat(0);
});

function play() {
  if (player.position >= VIDEO.duration) player.position = 0;
  player.playing = true;
  player.timer = setInterval(() => {
    const step = Math.min(Number($("speed").value), VIDEO.duration - player.position);
    player.position += step;
    heartbeat(step);
    if (player.position >= VIDEO.duration) pause();
  }, 1000);
  renderPlayer();
}

function pause() {
  player.playing = false;
  clearInterval(player.timer);
  renderPlayer();
}

function heartbeat(watchedSeconds) {
  window.demo.watched += watchedSeconds;
  renderPlayer();
  void client.track(
    mediaProgressed({
      contentId: VIDEO.id,
      courseId: COURSE,
      positionSeconds: player.position,
      durationSeconds: VIDEO.duration,
      watchedSeconds,
    }),
  );
}

$("read").addEventListener("click", () =>
  client.track(contentProgressed({ contentId: READING.id, courseId: COURSE, status: "completed" })),
);

$("quiz").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const answers = new FormData($("quiz"));
  const score = [...answers.values()].filter((value) => value === "right").length;
  const passed = score >= 2;
  $("quiz-result").textContent = `${score} of ${QUIZ.questions}: ${passed ? "passed" : "try again"}`;
  void client.track(
    quizAttempted({ contentId: QUIZ.id, courseId: COURSE, score, maxScore: QUIZ.questions, passed }),
  );
});

$("offline").addEventListener("change", () => {
  simulated.offline = $("offline").checked;
  window.dispatchEvent(new Event(simulated.offline ? "offline" : "online"));
});
$("revoke").addEventListener("change", () => {
  simulated.revoked = $("revoke").checked;
  if (!simulated.revoked) void client.flush().catch(() => undefined);
});
$("flush").addEventListener("click", () => void client.flush().catch(() => undefined));
$("reset").addEventListener("click", () => {
  pause();
  player.position = 0;
  void client.track(progressReset());
});

// What the page shows comes from the SDK alone.
let completing = false;
let lastState = "";
client.onSnapshot(renderSnapshot);
client.subscribe(renderStatus);
renderSnapshot(client.getSnapshot());
void client.pull().catch(() => undefined);

function renderSnapshot(snapshot) {
  const items = snapshot.items;
  $("outline").replaceChildren(...LESSONS.map((lesson) => outlineEntry(lesson, items[lesson.id])));
  const media = items[VIDEO.id]?.media;
  if (media && !player.playing && player.position === 0) player.position = media.lastPosition;
  renderPlayer();
  const finished = LESSONS.every((l) => ["completed", "passed"].includes(items[l.id]?.status));
  $("course-done").hidden = !snapshot.courses[COURSE];
  // One course.completed per completion: the snapshot shows it once it is tracked.
  if (finished && !snapshot.courses[COURSE] && !completing) {
    completing = true;
    void client.track(courseCompleted({ courseId: COURSE })).finally(() => (completing = false));
  }
  $("snapshot").textContent = JSON.stringify(snapshot, null, 2);
}

function renderPlayer() {
  $("screen").dataset.playing = String(player.playing);
  $("play").textContent = player.playing ? "Pause" : "Play";
  $("seek").value = String(player.position);
  $("timecode").textContent = `${clock(player.position)} / ${clock(VIDEO.duration)}`;
}

function renderStatus(status) {
  $("sync").dataset.state = status.state;
  $("sync-label").textContent = describe(status);
  if (status.state !== lastState) note(describe(status));
  lastState = status.state;
}

function describe({ state, pendingCount, lastSyncedAt, retryInMs, lastError }) {
  const queued = `${pendingCount} event${pendingCount === 1 ? "" : "s"} queued`;
  switch (state) {
    case "idle":
      return lastSyncedAt ? `Synced ${new Date(lastSyncedAt).toLocaleTimeString()}` : "Synced";
    case "syncing":
      return `Syncing · ${queued}`;
    case "offline":
      return `Offline · ${queued}`;
    case "error":
      return `Sync stopped (${lastError?.status ? `HTTP ${lastError.status}` : lastError?.kind}) · ${queued}`;
    default:
      return retryInMs > 0 ? `Retrying in ${Math.ceil(retryInMs / 1000)} s · ${queued}` : `Waiting · ${queued}`;
  }
}

function note(text) {
  const line = document.createElement("li");
  line.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("activity").prepend(line);
  while ($("activity").children.length > 30) $("activity").lastChild.remove();
}

function storedLearner() {
  const stored = localStorage.getItem("progress-sync-demo:learner");
  if (stored) return stored;
  const fresh = `learner-${crypto.randomUUID().slice(0, 8)}`;
  localStorage.setItem("progress-sync-demo:learner", fresh);
  return fresh;
}

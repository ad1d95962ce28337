// What both demo devices share: the course, how an outline entry shows an item, and the
// token every client of the demo gets from the demo's /token route.
export const COURSE = "bread-101";
export const VIDEO = { id: "kneading-video", title: "Watch: kneading by hand", duration: 120 };
export const READING = { id: "flour-reading", title: "Read: flour, water, salt" };
export const QUIZ = { id: "dough-quiz", title: "Quiz: dough basics", questions: 3 };
export const LESSONS = [VIDEO, READING, QUIZ];

// A real app's backend signs the token for its signed-in user; the demo's /token does that.
export async function getToken(userId) {
  const answer = await fetch("./token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userId }),
  });
  if (!answer.ok) throw new Error(`the demo's token route answered ${answer.status}`);
  return (await answer.json()).token;
}

export function outlineEntry(lesson, item) {
  const entry = document.createElement("li");
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.dataset.status = item?.status ?? "not_started";
  badge.textContent = (item?.status ?? "not started").replace("_", " ");
  entry.append(lesson.title, " ", badge);
  const detail = document.createElement("div");
  detail.className = "muted";
  if (item?.media) detail.textContent = `watched ${item.media.watchedSeconds} s, at ${clock(item.media.lastPosition)}`;
  if (item?.quiz) detail.textContent = `best ${item.quiz.bestScore} of ${item.quiz.maxScore}, ${item.quiz.attempts} attempt(s)`;
  entry.append(detail);
  return entry;
}

export function clock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
}

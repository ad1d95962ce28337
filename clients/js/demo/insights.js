// The insights chart: a course's funnel (learners who started and completed each item, in
// course order) and where learners dropped off, drawn as inline SVG from the figures the
// demo's backend reads (GET ./insights/{courseId}). `?course=` picks the course.
import { COURSE } from "./lessons.js";

const SVG = "http://www.w3.org/2000/svg";
const ROW = 46;
const LABEL = 210;
const WIDTH = 900;
const BARS = WIDTH - LABEL - 60;

const $ = (id) => document.getElementById(id);
const course = new URLSearchParams(location.search).get("course") ?? COURSE;

function node(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function bar(y, height, value, scale, className) {
  const group = node("g", { class: className });
  group.append(node("rect", { x: LABEL, y, width: Math.max(value * scale, 1), height, rx: 3 }));
  group.append(node("text", { x: LABEL + value * scale + 6, y: y + height - 2 }, String(value)));
  return group;
}

export function draw(figures) {
  const items = figures.items;
  const most = Math.max(1, figures.learners.started, ...items.map((item) => item.started));
  const scale = BARS / most;
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${items.length * ROW + 10}`, role: "img" });
  svg.append(node("title", {}, `Funnel of ${figures.courseId}`));
  items.forEach((item, index) => {
    const top = index * ROW + 6;
    svg.append(node("text", { x: 0, y: top + 16, class: "item" }, `${index + 1}. ${item.contentId}`));
    svg.append(node("text", { x: 0, y: top + 32, class: "kind" }, item.kind));
    svg.append(bar(top, 12, item.started, scale, "started"));
    svg.append(bar(top + 13, 12, item.completed, scale, "completed"));
    svg.append(bar(top + 26, 12, item.dropOff, scale, "dropoff"));
  });
  return svg;
}

function summary(figures) {
  const { started, completed, certified } = figures.learners;
  const median = figures.medianSecondsToComplete;
  const time = median === undefined ? "" : ` · median time to complete ${Math.round(median / 60)} min`;
  return `${started} started · ${completed} completed · ${certified} certified${time} · as of ${figures.asOf ?? "no learner yet"}`;
}

async function load() {
  $("course").textContent = course;
  const days = $("inactive").value;
  const chart = $("chart");
  chart.dataset.state = "loading";
  const answer = await fetch(`./insights/${encodeURIComponent(course)}?inactiveDays=${days}`);
  const body = await answer.json();
  if (!answer.ok) {
    $("learners").textContent = body.error?.message ?? `the insights answered ${answer.status}`;
    chart.replaceChildren();
    chart.dataset.state = "error";
    return;
  }
  $("learners").textContent = summary(body);
  chart.replaceChildren(draw(body));
  chart.dataset.state = "drawn";
}

$("inactive").addEventListener("change", () => void load());
void load();

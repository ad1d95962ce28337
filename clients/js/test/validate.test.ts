// The builders check payloads against the contract's rules (generated from the same schema as
// the server's), naming the field; every builder takes extensions.
import { describe, expect, it } from "vitest";
import * as events from "../src/events.generated.js";
import { ValidationError } from "../src/validate.js";

const extensions = { "https://lms.example.com/cohort": "2026-autumn", nested: { depth: [1, 2] } };

/** One valid payload per builder, each with extensions. */
const valid: [keyof typeof events, unknown][] = [
  ["contentProgressed", { contentId: "a", status: "completed", score: 90, interaction: { interactionId: "q1", state: null }, extensions }],
  ["mediaProgressed", { contentId: "v", positionSeconds: 12.5, watchedSeconds: null, extensions }],
  ["quizAttempted", { contentId: "q", score: 8, maxScore: 10, passed: true, extensions }],
  ["contentRated", { contentId: "a", rating: "x".repeat(32), extensions }],
  ["contentScheduled", { contentId: "a", scheduledFor: "2026-12-24", extensions }],
  ["courseCompleted", { courseId: "c1", extensions }],
  ["onboardingCompleted", { pathId: "p1", extensions }],
  ["onboardingReset", { extensions }],
  ["activePathSet", { pathId: null, extensions }],
  ["progressReset", { courseId: "c1", contentIds: ["a", "b"], extensions }],
  ["eventsRetracted", { eventIds: ["e1"], extensions }],
];

const build = (name: keyof typeof events, payload: unknown): unknown => (events[name] as (p: unknown) => unknown)(payload);

describe("the builders", () => {
  it.each(valid)("%s takes a valid payload with extensions", (name, payload) => {
    expect(build(name, payload)).toMatchObject({ payload });
  });

  it.each([
    ["contentRated", { contentId: "a", rating: "x".repeat(40) }, "payload.rating: length at most 32"],
    ["contentProgressed", { contentId: "a b", status: "completed" }, "payload.contentId: must not contain whitespace"],
    ["contentProgressed", { contentId: "a", status: "done" }, "payload.status: must be one of not_started, in_progress, completed, passed"],
    ["contentProgressed", { contentId: "a", status: "completed", interaction: { interactionId: "q" } }, "payload.interaction.state: must be given"],
    ["mediaProgressed", { contentId: "v", positionSeconds: -1 }, "payload.positionSeconds: value at least 0"],
    ["mediaProgressed", { contentId: "v", positionSeconds: Number.NaN }, "payload.positionSeconds: must be a finite number"],
    ["quizAttempted", { contentId: "q", score: 1, maxScore: 2 }, "payload.passed: must be given"],
    ["contentScheduled", { contentId: "a", scheduledFor: "24.12.2026" }, "payload.scheduledFor: must be a date (YYYY-MM-DD)"],
    ["courseCompleted", { courseId: "c1", certificate: true }, "payload.certificate: is not a field of this event"],
    ["progressReset", { contentIds: [] }, "payload.contentIds: items at least 1"],
    ["eventsRetracted", { eventIds: ["ok", ""] }, "payload.eventIds[1]: length at least 1"],
    ["courseCompleted", { courseId: "c1", extensions: [1] }, "payload.extensions: must be an object"],
  ] as [keyof typeof events, unknown, string][])("%s refuses %j, naming the field", (name, payload, message) => {
    const call = (): unknown => build(name, payload);
    expect(call).toThrow(ValidationError);
    expect(call).toThrow(message);
  });

  it("counts characters as the server does (code points, not UTF-16 units)", () => {
    expect(() => events.contentRated({ contentId: "a", rating: "😀".repeat(32) })).not.toThrow();
  });
});

// @vitest-environment happy-dom
// progress-sync/react renders the optimistic snapshot and the sync status, and re-renders
// when a tracked event changes them.
import { act, cleanup, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../src/client.js";
import { contentProgressed } from "../src/events.generated.js";
import { ProgressProvider, useProgress, useSyncStatus } from "../src/react.js";
import { FakeServer, until } from "./server.js";

function Lesson(): ReturnType<typeof createElement> {
  const snapshot = useProgress();
  const { state, pendingCount } = useSyncStatus();
  return createElement("p", null, `lesson-1: ${snapshot.items["lesson-1"]?.status ?? "not started"}; ${state} (${pendingCount})`);
}

afterEach(cleanup);

describe("progress-sync/react", () => {
  it("renders the snapshot and the status, and re-renders on track() and sync", async () => {
    const server = new FakeServer();
    const client = createClient({ baseUrl: "http://gw", userId: "u1", getToken: () => "t", fetch: server.fetch, debounceMs: 60_000, name: `react-${Math.random()}` });
    render(createElement(ProgressProvider, { client }, createElement(Lesson)));
    expect(screen.getByText("lesson-1: not started; idle (0)")).toBeTruthy();
    await act(() => client.track(contentProgressed({ contentId: "lesson-1", status: "completed" })));
    await act(() => until(() => screen.queryByText("lesson-1: completed; pending (1)") !== null));
    await act(() => client.flush());
    await act(() => until(() => screen.queryByText("lesson-1: completed; idle (0)") !== null));
    client.close();
  });

  it("says what is missing when there is no provider", () => {
    expect(() => render(createElement(Lesson))).toThrow(/ProgressProvider/);
  });
});

// @vitest-environment happy-dom
// progress-sync/react renders the optimistic snapshot and the sync status, and re-renders
// when a tracked event changes them.
import { act, cleanup, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../src/client.js";
import { contentProgressed } from "../src/events.generated.js";
import { ProgressProvider, useLive, useProgress, useSyncStatus } from "../src/react.js";
import { readmeExample } from "./readme.js";
import { FakeServer, LogServer, until } from "./server.js";

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

  it("runs the README's example: a click tracks, and the button shows it", async () => {
    const { App } = await readmeExample<{ App: (props: { client: unknown }) => ReturnType<typeof createElement> }>("react", {
      "progress-sync/react": "react.ts",
      "progress-sync": "index.ts",
    });
    const server = new FakeServer();
    const client = createClient({ baseUrl: "http://gw", userId: "u1", getToken: () => "t", fetch: server.fetch, debounceMs: 60_000, name: `react-${Math.random()}` });
    render(createElement(App, { client }));
    expect(screen.getByRole("button").textContent).toBe("not started (idle, 0 to save, 0 retries)");
    await act(async () => screen.getByRole("button").click());
    await act(() => until(() => screen.getByRole("button").textContent === "completed (pending, 1 to save, 0 retries)"));
    client.close();
  });

  it("useLive() keeps the client live while mounted, and stops on unmount", async () => {
    const server = new LogServer();
    const client = createClient({ baseUrl: "http://gw", userId: "u1", getToken: () => "t", fetch: server.fetch, debounceMs: 60_000, name: `react-${Math.random()}` });
    function Live(): ReturnType<typeof createElement> {
      useLive();
      return createElement("p", null, `live: ${useSyncStatus().live}; lesson-1: ${useProgress().items["lesson-1"]?.status ?? "not started"}`);
    }
    const view = render(createElement(ProgressProvider, { client }, createElement(Live)));
    await act(() => until(() => screen.queryByText("live: live; lesson-1: not started") !== null));
    const event = { eventId: "e1", occurredAt: new Date().toISOString(), clientId: "phone", ...contentProgressed({ contentId: "lesson-1", status: "completed" }) };
    await act(async () => server.remote([event as Parameters<LogServer["remote"]>[0][number]]));
    await act(() => until(() => screen.queryByText("live: live; lesson-1: completed") !== null));
    view.unmount();
    await until(() => server.openStreams === 0 && client.getStatus().live === "off");
    client.close();
  });

  it("says what is missing when there is no provider", () => {
    expect(() => render(createElement(Lesson))).toThrow(/ProgressProvider/);
  });
});

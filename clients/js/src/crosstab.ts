// One flusher per origin: the tab holding a Web Lock (or, without Web Locks, the tab that
// wins a BroadcastChannel election). Tabs talk over a BroadcastChannel. Outside a browser
// window without Web Locks (Node), each client flushes at once: a process is one "tab".

export type Message =
  | { t: "tracked"; userId: string; count: number }
  | { t: "status"; status: unknown }
  | { t: "snapshot"; userId: string }
  | { t: "flush" }
  | { t: "leader"; id: string }
  | { t: "here"; id: string };

/** This tab's view of the other tabs. */
export interface Coordinator {
  isLeader(): boolean;
  post(message: Message): void;
  close(): void;
}

const HEARTBEAT_MS = 1_000;

/** Join the tabs of `name`; `onLeader` runs once this tab becomes the flusher. */
export function coordinate(name: string, onLeader: () => void, onMessage: (m: Message) => void): Coordinator {
  const id = Math.random().toString(36).slice(2);
  const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(`progress-sync:${name}`);
  let leader = false;
  let release: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastHeard = 0;
  const peers = new Map<string, number>();
  let closed = false;
  const become = (): void => {
    if (!leader && !closed) {
      leader = true;
      queueMicrotask(onLeader);
    }
  };
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  if (locks) {
    void locks.request(`progress-sync:${name}`, () => {
      become();
      return new Promise<void>((resolve) => (release = resolve));
    });
  } else if (channel && typeof window !== "undefined") {
    // Election without locks: every tab sends a heartbeat each second, the flusher as
    // "leader". When none was heard for three beats, the live tab with the lowest id takes
    // over; of two leaders the one with the lower id steps down. A brief overlap only costs
    // the server an idempotent no-op.
    lastHeard = Date.now();
    timer = setInterval(() => {
      const now = Date.now();
      channel.postMessage({ t: leader ? "leader" : "here", id } satisfies Message);
      const lowest = [...peers].every(([peer, seen]) => peer > id || now - seen > 3 * HEARTBEAT_MS);
      if (!leader && now - lastHeard > 3 * HEARTBEAT_MS && lowest) become();
    }, HEARTBEAT_MS);
  } else {
    become();
  }
  if (channel) {
    channel.onmessage = (e: MessageEvent<Message>) => {
      if (e.data.t === "here") {
        peers.set(e.data.id, Date.now());
        return;
      }
      if (e.data.t === "leader") {
        lastHeard = Date.now();
        if (leader && e.data.id < id) leader = false;
        return;
      }
      onMessage(e.data);
    };
  }
  return {
    isLeader: () => leader,
    post: (message) => channel?.postMessage(message),
    close() {
      closed = true;
      leader = false;
      release?.();
      clearInterval(timer);
      channel?.close();
    },
  };
}

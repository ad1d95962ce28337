// progress-sync/react: the client for React apps. Put one <ProgressProvider client={…}> near
// the root; components read the optimistic snapshot with useProgress() and the sync status
// with useSyncStatus(), and re-render when they change; useLive() keeps the snapshot current
// as other devices write. React is a peer dependency.

import { createContext, createElement, useContext, useEffect, useSyncExternalStore, type ReactElement, type ReactNode } from "react";
import type { ProgressClient, Snapshot, Status } from "./index.js";

const ClientContext = createContext<ProgressClient | null>(null);

/** Makes `client` the one the hooks below it use. */
export function ProgressProvider({ client, children }: { client: ProgressClient; children?: ReactNode }): ReactElement {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The provider's client, for `track()`, `flush()` and the other calls. */
export function useProgressClient(): ProgressClient {
  const client = useContext(ClientContext);
  if (client === null) throw new Error("progress-sync/react: wrap the app in <ProgressProvider client={createClient(...)}>");
  return client;
}

/** The optimistic snapshot (`client.getSnapshot()`); re-renders when it changes. */
export function useProgress(): Snapshot {
  const client = useProgressClient();
  const read = (): Snapshot => client.getSnapshot();
  return useSyncExternalStore((changed) => client.onSnapshot(changed), read, read);
}

/** The sync status (`client.getStatus()`) for an indicator; re-renders when it changes. */
export function useSyncStatus(): Status {
  const client = useProgressClient();
  const read = (): Status => client.getStatus();
  return useSyncExternalStore((changed) => client.subscribe(changed), read, read);
}

/** Follow other devices' changes (`progress-sync/live`, loaded on first use) while mounted. */
export function useLive(): void {
  const client = useProgressClient();
  useEffect(() => {
    const stop = import("./live.js").then(({ live }) => live(client));
    return () => void stop.then((end) => end());
  }, [client]);
}

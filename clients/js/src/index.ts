// Progress Sync's browser SDK: track progress events durably and see them synced.

export { createClient, ProgressClient, type ClientOptions } from "./client.js";
export type { CourseView } from "./course.js";
export type { Draft, DraftOptions } from "./draft.js";
export * from "./events.generated.js";
export type { EventState } from "./outcomes.js";
export { applyEvents, reduce } from "./reducer.js";
export type { ItemProgress, MediaProgress, QuizProgress, Snapshot, Status as ItemStatus } from "./snapshot.js";
export type { LiveState, Status, StatusListener, SyncError, SyncState } from "./status.js";
export { ValidationError } from "./validate.js";

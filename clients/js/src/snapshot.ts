/** Status of one item, in ascending precedence. */
export type Status = "not_started" | "in_progress" | "completed" | "passed";

/** Playback of one media item. */
export interface MediaProgress {
  lastPosition: number;
  maxPosition: number;
  duration?: number;
  watchedSeconds: number;
}

/** Graded attempts at one quiz. */
export interface QuizProgress {
  attempts: number;
  bestScore: number;
  lastScore: number;
  maxScore: number;
}

/** Progress on one content item. */
export interface ItemProgress {
  status: Status;
  score?: number;
  contentVersion?: string;
  courseId?: string;
  completedAt?: string;
  lastAttemptAt?: string;
  interactions?: Record<string, Record<string, unknown>>;
  media?: MediaProgress;
  quiz?: QuizProgress;
  rating?: string;
  scheduledFor?: string;
  extensions?: Record<string, unknown>;
}

/** A user's progress as the API serves it (`GET /v1/users/{userId}/progress` → `snapshot`). */
export interface Snapshot {
  tenantId: string;
  userId: string;
  items: Record<string, ItemProgress>;
  courses: Record<string, { completedAt: string }>;
  onboarding?: { completed: boolean; pathId?: string; completedAt?: string };
  activePathId?: string;
  streak?: { current: number; longest: number; lastActiveDate: string };
  lastUpdated?: string;
  eventCount: number;
  extensions?: Record<string, unknown>;
}

/** The snapshot of a user without events. */
export function emptySnapshot(tenantId: string, userId: string): Snapshot {
  return { tenantId, userId, items: {}, courses: {}, eventCount: 0 };
}

// A user's view of one catalog course, as `GET /v1/users/{userId}/courses/{courseId}` serves it.

/** Progress on one catalog course (see docs/api.md). */
export interface CourseView {
  courseId: string;
  title?: string | null;
  /** Required items done, and how many are required. */
  completed: number;
  required: number;
  /** completed / required in whole percent, rounded down (100 only when all are done). */
  percentage: number;
  optionalCompleted: number;
  optional: number;
  /** Watch time summed over the course's items. */
  watchedSeconds: number;
  lastActivityAt?: string | null;
  groups: Record<string, unknown>[];
  certificate: Record<string, unknown>;
}

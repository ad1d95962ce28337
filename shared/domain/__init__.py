"""The pure domain of Progress Sync: the event contract, the reducer and the course views.

Imports only the standard library and pydantic; no I/O, no clock.
"""

from .catalog import CatalogProblem, Course, InvalidCourse, parse_course
from .course_views import (
    CatalogTotals,
    Certificate,
    CourseView,
    CourseViews,
    course_view,
    course_views,
)
from .errors import ContractViolation
from .events import (
    EVENT_TYPES,
    MAX_CLOCK_SKEW,
    ActivePathSet,
    ContentProgressed,
    ContentRated,
    ContentScheduled,
    CourseCompleted,
    EventsRetracted,
    MediaProgressed,
    OnboardingCompleted,
    OnboardingReset,
    ProgressEvent,
    ProgressReset,
    QuizAttempted,
    accept_event,
    clamp_clock,
    new_reset_event,
    validate_event,
)
from .ids import Id, TenantId, is_valid_id
from .imports import ImportedState, events_from_state, parse_state
from .log_head import LogHead, visible_head
from .quotas import OverQuota, Quotas, QuotaUsage, admit, usage_of
from .recorded import RecordedEvent
from .reducer import Deduped, LateEvent, apply, dedupe, reduce, sort_key
from .snapshot import Snapshot

__all__ = [
    "EVENT_TYPES",
    "MAX_CLOCK_SKEW",
    "ActivePathSet",
    "CatalogProblem",
    "CatalogTotals",
    "Certificate",
    "ContentProgressed",
    "ContentRated",
    "ContentScheduled",
    "ContractViolation",
    "Course",
    "CourseCompleted",
    "CourseView",
    "CourseViews",
    "Deduped",
    "EventsRetracted",
    "Id",
    "ImportedState",
    "InvalidCourse",
    "LateEvent",
    "LogHead",
    "MediaProgressed",
    "OnboardingCompleted",
    "OnboardingReset",
    "OverQuota",
    "ProgressEvent",
    "ProgressReset",
    "QuizAttempted",
    "QuotaUsage",
    "Quotas",
    "RecordedEvent",
    "Snapshot",
    "TenantId",
    "accept_event",
    "admit",
    "apply",
    "clamp_clock",
    "course_view",
    "course_views",
    "dedupe",
    "events_from_state",
    "is_valid_id",
    "new_reset_event",
    "parse_course",
    "parse_state",
    "reduce",
    "sort_key",
    "usage_of",
    "validate_event",
    "visible_head",
]

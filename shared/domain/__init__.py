"""The pure domain of Progress Sync: the event contract and the reducer.

Imports only the standard library and pydantic; no I/O, no clock.
"""

from shared.domain.errors import ContractViolation
from shared.domain.events import (
    EVENT_TYPES,
    MAX_CLOCK_SKEW,
    ActivePathSet,
    ContentProgressed,
    ContentRated,
    ContentScheduled,
    CourseCompleted,
    MediaProgressed,
    OnboardingCompleted,
    OnboardingReset,
    ProgressEvent,
    ProgressReset,
    QuizAttempted,
    RecordedEvent,
    new_reset_event,
    validate_event,
)
from shared.domain.ids import Id, TenantId, is_valid_id
from shared.domain.reducer import Deduped, LateEvent, apply, dedupe, reduce, sort_key
from shared.domain.snapshot import Snapshot

__all__ = [
    "EVENT_TYPES",
    "MAX_CLOCK_SKEW",
    "ActivePathSet",
    "ContentProgressed",
    "ContentRated",
    "ContentScheduled",
    "ContractViolation",
    "CourseCompleted",
    "Deduped",
    "Id",
    "LateEvent",
    "MediaProgressed",
    "OnboardingCompleted",
    "OnboardingReset",
    "ProgressEvent",
    "ProgressReset",
    "QuizAttempted",
    "RecordedEvent",
    "Snapshot",
    "TenantId",
    "apply",
    "dedupe",
    "is_valid_id",
    "new_reset_event",
    "reduce",
    "sort_key",
    "validate_event",
]

"""The payload of each event type, exactly as an app sends it.

Every model is strict (no coercion: a number is a JSON number, a flag a JSON boolean), forbids
unknown fields, and is immutable. Optional fields may be omitted or sent as null; either way
they are left out when the event is written back as JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .ids import Id
from .json_values import bounded_object
from .values import Amount, ContentVersion, Day, Omittable, Rating, Status

__all__ = [
    "MAX_STATE_BYTES",
    "ActivePathPayload",
    "ContentProgressPayload",
    "ContentRatingPayload",
    "ContentSchedulePayload",
    "ContractModel",
    "CourseCompletionPayload",
    "EmptyPayload",
    "Interaction",
    "MediaProgressPayload",
    "OnboardingPayload",
    "QuizAttemptPayload",
]

MAX_STATE_BYTES = 4096
"""Largest interaction state, measured as compact UTF-8 JSON."""


def _bounded_state(value: dict[str, Any]) -> dict[str, Any]:
    return bounded_object(value, MAX_STATE_BYTES, "State")


InteractionState = Annotated[dict[str, Any], AfterValidator(_bounded_state)]
"""An app-defined JSON object (at most 4 KiB, 8 levels deep).

For example `{"kind": "quiz", "selectedOptionId": "c"}`."""


class ContractModel(BaseModel):
    """Base of every contract model: strict, closed, immutable, camelCase on the wire."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
        field_title_generator=lambda name, _: to_camel(name),
    )


class Interaction(ContractModel):
    """The state of one interaction (a question, an exercise) inside a content item."""

    interaction_id: Id
    state: InteractionState | None
    """The new state; null removes the interaction's state."""


class ContentProgressPayload(ContractModel):
    """Payload of `content.progressed`: a step, lesson or workout moved on."""

    content_id: Id
    status: Status
    score: Omittable[Amount] = None
    content_version: Omittable[ContentVersion] = None
    course_id: Omittable[Id] = None
    interaction: Omittable[Interaction] = None


class MediaProgressPayload(ContractModel):
    """Payload of `media.progressed`: a video or audio position report (a heartbeat)."""

    content_id: Id
    position_seconds: Amount
    duration_seconds: Omittable[Amount] = None
    watched_seconds: Omittable[Amount] = None
    """Seconds newly watched since the previous report of this client; they are summed."""
    course_id: Omittable[Id] = None


class QuizAttemptPayload(ContractModel):
    """Payload of `quiz.attempted`: one graded attempt at a quiz."""

    content_id: Id
    score: Amount
    max_score: Amount
    passed: bool
    course_id: Omittable[Id] = None


class ContentRatingPayload(ContractModel):
    """Payload of `content.rated`: the user's rating of an item (e.g. workout intensity)."""

    content_id: Id
    rating: Rating


class ContentSchedulePayload(ContractModel):
    """Payload of `content.scheduled`: the day an item is planned for."""

    content_id: Id
    scheduled_for: Day | None
    """The planned day (YYYY-MM-DD); null clears the schedule."""


class CourseCompletionPayload(ContractModel):
    """Payload of `course.completed`."""

    course_id: Id


class OnboardingPayload(ContractModel):
    """Payload of `onboarding.completed`: the path the user chose."""

    path_id: Id


class ActivePathPayload(ContractModel):
    """Payload of `activePath.set`."""

    path_id: Id | None
    """The path now active; null clears it."""


class EmptyPayload(ContractModel):
    """The payload of `onboarding.reset` and `progress.reset`: `{}`, or omitted."""

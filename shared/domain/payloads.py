"""The payload of each event type, exactly as an app sends it.

Every model is strict (no coercion: a number is a JSON number, a flag a JSON boolean), forbids
unknown fields, and is immutable. Optional fields may be omitted or sent as null; either way
they are left out when the event is written back as JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from .ids import Id
from .json_values import bounded_object
from .values import Amount, ContentVersion, Day, Omittable, Rating, Status

__all__ = [
    "MAX_EXTENSIONS_BYTES",
    "MAX_RESET_ITEMS",
    "MAX_STATE_BYTES",
    "ActivePathPayload",
    "ContentProgressPayload",
    "ContentRatingPayload",
    "ContentSchedulePayload",
    "ContractModel",
    "CourseCompletionPayload",
    "EmptyPayload",
    "ExtensiblePayload",
    "Extensions",
    "Interaction",
    "MediaProgressPayload",
    "OnboardingPayload",
    "QuizAttemptPayload",
    "ResetPayload",
    "RetractionPayload",
]

MAX_STATE_BYTES = 4096
"""Largest interaction state, measured as compact UTF-8 JSON."""

MAX_EXTENSIONS_BYTES = 4096
"""Largest `extensions` object of one event, measured as compact UTF-8 JSON."""

MAX_RESET_ITEMS = 1000
"""Most contentIds one scoped reset may name (a catalog course has at most as many)."""


def _bounded_state(value: dict[str, Any]) -> dict[str, Any]:
    return bounded_object(value, MAX_STATE_BYTES, "State")


def _extensions(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        if not key or not key.isprintable() or len(key) > 256:
            raise PydanticCustomError(
                "extension_key", "Extension keys must be 1-256 printable characters"
            )
    return bounded_object(value, MAX_EXTENSIONS_BYTES, "Extensions")


Extensions = Annotated[dict[str, Any], AfterValidator(_extensions)]
"""App-defined values kept with an event and in the snapshot, never interpreted.

At most 4 KiB of JSON, 8 levels deep, keys printable; e.g. a video player's
`{"seekEvents": 3, "pauseEvents": 1, "playbackSpeed": 1.5}`."""

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


class ExtensiblePayload(ContractModel):
    """Base of every payload: each may carry the app's own `extensions`."""

    extensions: Omittable[Extensions] = None
    """App-defined values (latest wins per key, per item or for the user); never interpreted."""


class Interaction(ContractModel):
    """The state of one interaction (a question, an exercise) inside a content item."""

    interaction_id: Id
    state: InteractionState | None
    """The new state; null removes the interaction's state."""


class ContentProgressPayload(ExtensiblePayload):
    """Payload of `content.progressed`: a step, lesson or workout moved on."""

    content_id: Id
    status: Status
    score: Omittable[Amount] = None
    content_version: Omittable[ContentVersion] = None
    course_id: Omittable[Id] = None
    interaction: Omittable[Interaction] = None


class MediaProgressPayload(ExtensiblePayload):
    """Payload of `media.progressed`: a video or audio position report (a heartbeat)."""

    content_id: Id
    position_seconds: Amount
    duration_seconds: Omittable[Amount] = None
    watched_seconds: Omittable[Amount] = None
    """Seconds newly watched since the previous report of this client; they are summed."""
    course_id: Omittable[Id] = None


class QuizAttemptPayload(ExtensiblePayload):
    """Payload of `quiz.attempted`: one graded attempt at a quiz."""

    content_id: Id
    score: Amount
    max_score: Amount
    passed: bool
    course_id: Omittable[Id] = None


class ContentRatingPayload(ExtensiblePayload):
    """Payload of `content.rated`: the user's rating of an item (e.g. workout intensity)."""

    content_id: Id
    rating: Rating


class ContentSchedulePayload(ExtensiblePayload):
    """Payload of `content.scheduled`: the day an item is planned for."""

    content_id: Id
    scheduled_for: Day | None
    """The planned day (YYYY-MM-DD); null clears the schedule."""


class CourseCompletionPayload(ExtensiblePayload):
    """Payload of `course.completed`."""

    course_id: Id


class OnboardingPayload(ExtensiblePayload):
    """Payload of `onboarding.completed`: the path the user chose."""

    path_id: Id


class ActivePathPayload(ExtensiblePayload):
    """Payload of `activePath.set`."""

    path_id: Id | None
    """The path now active; null clears it."""


class EmptyPayload(ExtensiblePayload):
    """The payload of `onboarding.reset`: `{}`, or omitted."""


class ResetPayload(ExtensiblePayload):
    """The payload of `progress.reset`: without `contentIds`, all progress is cleared.

    With `contentIds`, only those items are (a tutorial, a course's items); `courseId`
    names the course they came from, whose completion claim is cleared too.
    """

    content_ids: Omittable[Annotated[list[Id], Field(min_length=1, max_length=MAX_RESET_ITEMS)]] = (
        None
    )
    course_id: Omittable[Id] = None

    @model_validator(mode="after")
    def _scoped_by_items(self) -> ResetPayload:
        if self.course_id is not None and self.content_ids is None:
            raise PydanticCustomError(
                "reset_scope",
                "a reset of a course names its contentIds; the gateway fills them in from the "
                "catalog when only courseId is sent",
            )
        return self


class RetractionPayload(ExtensiblePayload):
    """The payload of `events.retracted`: the eventIds whose effect is withdrawn."""

    event_ids: Annotated[list[Id], Field(min_length=1, max_length=500)]

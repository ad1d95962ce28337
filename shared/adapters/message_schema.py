"""The name under which the AsyncAPI document describes the progress topics' messages."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RecordedEventMessage"]


class RecordedEventMessage(BaseModel):
    """Stands for a recorded event in FastStream's declarations.

    Its schema is a placeholder: the AsyncAPI generator replaces it with the contract's own
    (`shared.domain.schema_export.recorded_event_schema`), so the shape is written once.
    """

    model_config = ConfigDict(title="RecordedEvent", extra="allow")

"""Progress Sync's Python client: typed events, a durable SQLite outbox, reads, backend helpers.

The event contract (`progress_sync_client.contract`) is the server's own, packaged with this
client when it is built: there is no second copy of it.
"""

from .builders import EventBuilder
from .client import AsyncProgressClient
from .contract import ContractViolation, CourseView, CourseViews, RecordedEvent, Snapshot
from .errors import ApiError, NeedsApiKey, NoOutbox, PagingStopped, StreamEnded
from .event_ids import new_event_id
from .models import Change, EventResult, Progress, WriteResult
from .outbox import Outbox
from .reports import DroppedEvent, EventState, FlushReport, SyncStatus
from .retry import BACKOFF_SECONDS, Backoff
from .sync_client import ProgressClient
from .tokens import mint_user_token

__all__ = [
    "BACKOFF_SECONDS",
    "ApiError",
    "AsyncProgressClient",
    "Backoff",
    "Change",
    "ContractViolation",
    "CourseView",
    "CourseViews",
    "DroppedEvent",
    "EventBuilder",
    "EventResult",
    "EventState",
    "FlushReport",
    "NeedsApiKey",
    "NoOutbox",
    "Outbox",
    "PagingStopped",
    "Progress",
    "ProgressClient",
    "RecordedEvent",
    "Snapshot",
    "StreamEnded",
    "SyncStatus",
    "WriteResult",
    "mint_user_token",
    "new_event_id",
]

"""The error a direct call (a read, a merge, an import) raises when the server says no."""

from __future__ import annotations

import httpx

__all__ = ["ApiError", "NeedsApiKey", "NoOutbox", "PagingStopped", "StreamEnded"]


class ApiError(Exception):
    """The server answered a direct call with an error status.

    Attributes:
        status: The HTTP status.
        code: The server's error code (e.g. `forbidden`), or None when the body had none.
        message: The server's explanation.
        field: The request field at fault, when the server names one.
    """

    def __init__(self, status: int, code: str | None, message: str, field: str | None) -> None:
        self.status, self.code, self.message, self.field = status, code, message, field
        super().__init__(f"HTTP {status} {code or ''}: {message}".replace("  ", " "))

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Read the gateway's `{"error": {"code", "message", "field"?}}` body, or the raw text."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls(
                response.status_code,
                error.get("code"),
                str(error.get("message", "")),
                error.get("field"),
            )
        return cls(response.status_code, None, response.text[:500], None)


class NoOutbox(RuntimeError):
    """`track()` on a client made without an outbox file."""


class NeedsApiKey(RuntimeError):
    """A backend call (merge, import) on a client that signs in with user tokens."""


class PagingStopped(RuntimeError):
    """A read stopped paging: the server repeated its cursor or sent more pages than allowed.

    Attributes:
        user_id: The user being read.
        pages: Pages read before stopping.
        cursor: The server's last cursor.
        repeated: True if the server answered `hasMore` with the cursor it was asked from.
    """

    def __init__(self, user_id: str, pages: int, cursor: str, *, repeated: bool) -> None:
        self.user_id, self.pages, self.cursor, self.repeated = user_id, pages, cursor, repeated
        why = "the server repeated cursor" if repeated else "too many pages, at cursor"
        super().__init__(f"stopped reading user {user_id} after {pages} pages: {why} {cursor}")


class StreamEnded(RuntimeError):
    """A live stream closed for a reason no reconnect can help: `erased` or `merged`.

    Attributes:
        user_id: The user followed.
        reason: `erased` (the user is gone) or `merged` (a guest merged into an account:
            follow the account, which `get_progress(guest).merged_into` names).
    """

    def __init__(self, user_id: str, reason: str) -> None:
        self.user_id, self.reason = user_id, reason
        super().__init__(f"the live stream of user {user_id} ended: {reason}")

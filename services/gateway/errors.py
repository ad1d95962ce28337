"""One JSON error shape for every gateway error: `{"error": {"code", "message", "field"?}}`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from shared.adapters.logs import get_logger
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.service_layer.errors import (
    BrokerUnavailable,
    ConcurrentChange,
    SnapshotUnreadable,
    StoreRejected,
    StoreUnavailable,
)

__all__ = [
    "RETRY_AFTER_SECONDS",
    "ApiError",
    "error_body",
    "error_response",
    "install_error_handlers",
    "send_error",
    "store_outage",
]

RETRY_AFTER_SECONDS = 5
"""What a 503 tells the client to wait before it tries again."""

log = get_logger(__name__)

_HTTP_CODES = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed"}
# FastAPI answers 400 only when its JSON parser raises something other than a syntax error.
_UNPARSABLE = (
    "the body could not be parsed as JSON: it must be UTF-8, and an integer may have at most "
    "4,300 digits"
)


class ApiError(Exception):
    """An error the gateway answers with its own status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    field: str | None = None,
) -> None:
    """Answer in the error shape from ASGI middleware, before FastAPI is involved."""
    payload = json.dumps(error_body(code, message, field)).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [
        (name.lower().encode(), value.encode()) for name, value in (headers or {}).items()
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "body")


def store_outage(error: StoreUnavailable) -> ApiError:
    """The 503 (with Retry-After) for a database outage, logged: the request may pass later."""
    log.warning("store_unavailable", error=str(error))
    return ApiError(
        503,
        "store_unavailable",
        "the database is unavailable; retry later",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def broker_outage(error: BrokerUnavailable) -> ApiError:
    """The 503 (with Retry-After) for events the broker did not acknowledge, logged and counted.

    Some of them may have been stored; resending the whole batch is safe (idempotent ids).
    """
    log.warning("publish_unacknowledged", events=len(error.event_types), error=str(error))
    PROMETHEUS_METRICS.events_answered("unavailable", error.event_types)
    return ApiError(
        503,
        "broker_unavailable",
        "the event broker did not acknowledge in time; some events may have been stored. "
        "Resend the whole batch: events are idempotent by eventId.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def error_response(error: ApiError | StoreUnavailable | BrokerUnavailable) -> JSONResponse:
    """The one rendering of an `ApiError`, and of an outage as its 503, in the error shape.

    The app's handlers answer with it, and so does the xAPI front (with its version header).
    """
    if isinstance(error, StoreUnavailable):
        error = store_outage(error)
    elif isinstance(error, BrokerUnavailable):
        error = broker_outage(error)
    return JSONResponse(
        error_body(error.code, error.message, error.field),
        status_code=error.status,
        headers=error.headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make FastAPI's own errors (404, 405, 422), `ApiError` and outages use the one shape.

    A database or broker outage is a 503 with Retry-After (the request may pass later); a
    request the database refuses outright is a 422 `store_rejected` (it would be refused
    again). Neither says more than that to the client; the log has the driver's words. A
    conditional write that lost to concurrent writers every time is a 409 `concurrent_change`
    (nothing was stored; read again and retry).
    """

    @app.exception_handler(ConcurrentChange)
    async def concurrent_change(_: Request, error: ConcurrentChange) -> JSONResponse:
        log.warning("concurrent_change", error=str(error))
        return JSONResponse(error_body("concurrent_change", str(error)), status_code=409)

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(BrokerUnavailable)
    @app.exception_handler(ApiError)
    async def api_error(
        _: Request, error: ApiError | StoreUnavailable | BrokerUnavailable
    ) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(StoreRejected)
    async def store_rejected(_: Request, error: StoreRejected) -> JSONResponse:
        log.warning("store_rejected", error=str(error))
        return JSONResponse(
            error_body(
                "store_rejected",
                "the database refused this request and would refuse it again; "
                "the gateway's log has the reason under this request's X-Request-ID",
            ),
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return JSONResponse(
                error_body("malformed_json", f"the body is not valid JSON: {first.get('msg')}"),
                status_code=400,
            )
        field = _field_path(tuple(first.get("loc", ())))
        return JSONResponse(
            error_body("invalid_request", f"{field}: {first.get('msg')}", field),
            status_code=422,
        )

    @app.exception_handler(SnapshotUnreadable)
    async def unreadable(request: Request, error: SnapshotUnreadable) -> JSONResponse:
        return JSONResponse(
            error_body(
                "snapshot_unreadable",
                "this user's stored progress cannot be read; an operator repairs it with "
                "`progressctl rebuild --tenant T --user U`",
            ),
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        message = _UNPARSABLE if error.status_code == 400 else str(error.detail)
        return JSONResponse(
            error_body(code, message),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )

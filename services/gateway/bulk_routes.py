"""`POST /v1/events`: many users' events in one request, for server-to-server imports."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Body, Request

from services.gateway.errors import ApiError
from services.gateway.examples import BULK_WRITE_EXAMPLES
from services.gateway.progress_routes import Authorization, authorized, context_of
from services.gateway.schemas import BulkWriteRequest, WriteResponse
from services.gateway.writes import check_batch_size, write_events
from shared.service_layer.ingest import Submission

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["progress"])


def _user_of(raw: object) -> str | None:
    value = raw.get("userId") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _without_user(raw: object) -> object:
    if not isinstance(raw, dict):
        return raw
    return {name: value for name, value in raw.items() if name != "userId"}


@router.post(
    "/events",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
    summary="Send events of many users (API key only)",
)
async def write_bulk(
    request: Request,
    body: Annotated[BulkWriteRequest, Body(openapi_examples=BULK_WRITE_EXAMPLES)],
    authorization: Authorization = None,
) -> WriteResponse:
    """Each event names its `userId`; each is validated on its own, as on the user endpoint."""
    check_batch_size(context_of(request), len(body.events))
    per_user = Counter(user for user in map(_user_of, body.events) if user is not None)
    principal = await authorized(
        request, authorization, "write", None, len(body.events), events_per_user=per_user
    )
    if not principal.is_api_key:
        raise ApiError(
            403, "forbidden", "the bulk endpoint takes a tenant API key, not a user token"
        )
    return await write_events(
        context_of(request),
        principal.tenant_id,
        [Submission(_user_of(raw), _without_user(raw)) for raw in body.events],
        request.state.request_id,
        single_user=False,
    )

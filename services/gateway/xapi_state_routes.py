"""The xAPI State Resource (/xapi/activities/state) and About Resource (/xapi/about)."""

from __future__ import annotations

import json
from typing import cast

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.xapi_http import XapiRequest, http_date, serve
from shared.service_layer.xapi.state import Preconditions
from shared.xapi import parse_state_params
from shared.xapi.documents import Method

__all__ = ["router"]

_STATE = (
    "xAPI State Resource (docs/xapi.md): documents per activityId, agent, registration and "
    "stateId, with ETag concurrency. Needs X-Experience-API-Version and credentials."
)

router = APIRouter(prefix="/xapi", tags=["xAPI"])


@router.get("/about", description="xAPI About Resource: the versions served (no auth).")
async def about(request: Request) -> Response:
    """The xAPI versions this LRS serves."""
    return await serve(request, "about", _about)


async def _about(xapi: XapiRequest, context: GatewayContext) -> Response:
    return JSONResponse({"version": ["1.0.3", "2.0.0"], "extensions": {}})


@router.get("/activities/state", description=_STATE, summary="xAPI: read State documents")
async def get_state(request: Request) -> Response:
    """Read State documents (docs/xapi.md)."""
    return await serve(request, "state", _dispatch)


@router.head("/activities/state", description=_STATE, summary="xAPI: headers of State documents")
async def head_state(request: Request) -> Response:
    """Headers of State documents (docs/xapi.md)."""
    return await serve(request, "state", _dispatch)


@router.put("/activities/state", description=_STATE, summary="xAPI: replace State documents")
async def put_state(request: Request) -> Response:
    """Replace State documents (docs/xapi.md)."""
    return await serve(request, "state", _dispatch)


@router.post("/activities/state", description=_STATE, summary="xAPI: merge into State documents")
async def post_state(request: Request) -> Response:
    """Merge into State documents (docs/xapi.md)."""
    return await serve(request, "state", _dispatch)


@router.delete("/activities/state", description=_STATE, summary="xAPI: delete State documents")
async def delete_state(request: Request) -> Response:
    """Delete State documents (docs/xapi.md)."""
    return await serve(request, "state", _dispatch)


async def _dispatch(xapi: XapiRequest, context: GatewayContext) -> Response:
    method = cast(Method, xapi.method)
    address = parse_state_params(method, xapi.params)
    conditions = Preconditions(xapi.header("if-match"), xapi.header("if-none-match"), xapi.version)
    documents = context.xapi_state
    if method in ("GET", "HEAD"):
        if address.state_id is None:
            ids = await documents.ids(xapi.tenant_id, address)
            return JSONResponse(ids if method == "GET" else None)
        found = await documents.get(xapi.tenant_id, address)
        if found is None:
            raise ApiError(404, "not_found", "no such state document", field="stateId")
        headers = {
            "ETag": found.etag,
            "Last-Modified": http_date(found.updated),
        }
        content = b"" if method == "HEAD" else found.content
        return Response(content, media_type=found.content_type, headers=headers)
    if method == "DELETE":
        await documents.delete(xapi.tenant_id, address, conditions)
        return Response(status_code=204)
    written = await documents.write(
        xapi.tenant_id,
        "PUT" if method == "PUT" else "POST",
        address,
        json.loads(xapi.params["agent"]),
        xapi.body,
        xapi.header("content-type") or "application/octet-stream",
        conditions,
        (await context.xapi_profiles.of(xapi.tenant_id)).users,
    )
    return Response(status_code=204, headers={"ETag": written.etag})

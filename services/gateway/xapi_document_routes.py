"""The xAPI document resources: State, Activity Profile and Agent Profile.

All three share one dispatch: GET of one document (with `ETag`, `Last-Modified`) or of the
ids of a context, PUT (replace), POST (merge JSON objects) and DELETE, each under the
If-Match / If-None-Match rules (`shared.service_layer.xapi.documents`). Only the parameters
differ; they are parsed per resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import cast

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.xapi_http import Handler, XapiRequest, http_date, serve
from shared.service_layer.xapi.documents import Preconditions
from shared.xapi import (
    DocumentAddress,
    check_document_learner,
    parse_profile_params,
    parse_state_params,
)
from shared.xapi.document_params import Method

__all__ = ["router"]

router = APIRouter(prefix="/xapi", tags=["xAPI"])

Parser = Callable[[Method, Mapping[str, str]], DocumentAddress]


_RESOURCES: dict[str, tuple[str, str, Parser]] = {
    "state": (
        "/activities/state",
        "xAPI State Resource (docs/xapi.md): documents per activityId, agent, registration "
        "and stateId, with ETag concurrency. Needs X-Experience-API-Version and credentials.",
        parse_state_params,
    ),
    "activity_profile": (
        "/activities/profile",
        "xAPI Activity Profile Resource (docs/xapi.md): documents per activityId and "
        "profileId, with ETag concurrency. Needs X-Experience-API-Version and credentials.",
        partial(parse_profile_params, "activity_profile"),
    ),
    "agent_profile": (
        "/agents/profile",
        "xAPI Agent Profile Resource (docs/xapi.md): documents per agent and profileId, "
        "with ETag concurrency. Needs X-Experience-API-Version and credentials.",
        partial(parse_profile_params, "agent_profile"),
    ),
}
_VERBS = {
    "GET": "read",
    "HEAD": "headers of",
    "PUT": "replace",
    "POST": "merge into",
    "DELETE": "delete",
}


def _dispatcher(parse: Parser) -> Handler:
    """The handler of one document resource; `parse` reads its parameters."""

    async def dispatch(xapi: XapiRequest, context: GatewayContext) -> Response:
        method = cast(Method, xapi.method)
        address = parse(method, xapi.params)
        conditions = Preconditions(
            xapi.header("if-match"), xapi.header("if-none-match"), xapi.version
        )
        documents = context.xapi_documents
        users = (await context.xapi_profiles.of(xapi.tenant_id)).users
        if xapi.learner is not None:
            check_document_learner(address, method, users, xapi.learner)
        if method in ("GET", "HEAD"):
            if address.document_id is None:
                ids = await documents.ids(xapi.tenant_id, address)
                return JSONResponse(ids if method == "GET" else None)
            found = await documents.get(xapi.tenant_id, address)
            if found is None:
                raise ApiError(404, "not_found", "no such document")
            headers = {"ETag": found.etag, "Last-Modified": http_date(found.updated)}
            content = b"" if method == "HEAD" else found.content
            return Response(content, media_type=found.content_type, headers=headers)
        if method == "DELETE":
            await documents.delete(xapi.tenant_id, address, conditions, users)
            return Response(status_code=204)
        written = await documents.write(
            xapi.tenant_id,
            "PUT" if method == "PUT" else "POST",
            address,
            xapi.body,
            xapi.header("content-type") or "application/octet-stream",
            conditions,
            users,
        )
        return Response(status_code=204, headers={"ETag": written.etag})

    return dispatch


def _add_routes(resource: str, path: str, description: str, parse: Parser) -> None:
    """Route every method of `path` to one resource's dispatch, each its own operation."""
    handler = _dispatcher(parse)
    name = resource.replace("_", " ")

    async def endpoint(request: Request) -> Response:
        return await serve(request, resource, handler)

    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            description=description,
            summary=f"xAPI: {_VERBS[method]} {name} documents",
            operation_id=f"xapi_{resource}_{method.lower()}",
        )


for _resource, (_path, _description, _parse) in _RESOURCES.items():
    _add_routes(_resource, _path, _description, _parse)

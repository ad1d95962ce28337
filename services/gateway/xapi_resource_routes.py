"""The xAPI resources that answer about things rather than store them: About, Activities, Agents.

About needs no credentials (Communication 2.8); Activities returns the Activity Object the
tenant's statements define (2.5) and Agents the Person Object of an Agent (2.4).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.context import GatewayContext
from services.gateway.xapi_http import XapiRequest, serve
from shared.xapi import parse_activity_params, parse_agents_params, person_for

__all__ = ["router"]

router = APIRouter(prefix="/xapi", tags=["xAPI"])

_ACTIVITIES = (
    "xAPI Activities Resource (docs/xapi.md): the Activity Object of `activityId`, its "
    "definition merged from the tenant's statements. Needs X-Experience-API-Version."
)
_AGENTS = (
    "xAPI Agents Resource (docs/xapi.md): the Person Object of `agent` (an Agent as JSON). "
    "Needs X-Experience-API-Version and credentials."
)


@router.get("/about", description="xAPI About Resource: the versions served (no auth).")
async def about(request: Request) -> Response:
    """The xAPI versions this LRS serves."""
    return await serve(request, "about", _about)


async def _about(xapi: XapiRequest, context: GatewayContext) -> Response:
    return JSONResponse({"version": ["1.0.3", "2.0.0"], "extensions": {}})


@router.get("/activities", description=_ACTIVITIES, summary="xAPI: an Activity Object")
@router.head("/activities", description=_ACTIVITIES, summary="xAPI: headers of an Activity")
async def activities(request: Request) -> Response:
    """The Activity Object of an activity IRI (docs/xapi.md)."""
    return await serve(request, "activities", _activity)


async def _activity(xapi: XapiRequest, context: GatewayContext) -> Response:
    activity_id = parse_activity_params(xapi.params)
    found = await context.xapi_reads.activity(xapi.tenant_id, activity_id)
    return JSONResponse(found if xapi.method == "GET" else None)


@router.get("/agents", description=_AGENTS, summary="xAPI: the Person Object of an Agent")
@router.head("/agents", description=_AGENTS, summary="xAPI: headers of a Person Object")
async def agents(request: Request) -> Response:
    """The Person Object of an Agent (docs/xapi.md)."""
    return await serve(request, "agents", _person)


async def _person(xapi: XapiRequest, context: GatewayContext) -> Response:
    person = person_for(parse_agents_params(xapi.params))
    return JSONResponse(person if xapi.method == "GET" else None)

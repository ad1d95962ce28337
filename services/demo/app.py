"""The demo's HTTP side: the course player's files, its settings, and a token route.

The page is static (`clients/js/demo/`) and talks to the gateway from its own origin, as a
real app would. Signing user tokens belongs to an app's own backend, never to the browser;
`POST /token` stands in for that backend here. It signs short-lived tokens for the
bootstrap tenant, so it serves only this machine: it always binds 127.0.0.1 (whatever
`PROGRESS_HTTP_HOST` says), refuses a `Host` other than its loopback names (a page of another
site whose name was rebound to 127.0.0.1 cannot reach it), and takes only a small JSON body
(`application/json`, else 415: a cross-site form cannot send one without a preflight) with
a valid userId.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.middleware.trustedhost import TrustedHostMiddleware

from shared.adapters.logs import get_logger
from shared.adapters.serving import LOOPBACK_HOST
from shared.adapters.settings import Settings
from shared.adapters.user_tokens import mint_user_token
from shared.domain.ids import Id

__all__ = ["BUILT", "BUNDLE", "PAGES", "TOKEN_TTL", "create_app"]

_SDK = FilePath(__file__).resolve().parents[2] / "clients" / "js"
PAGES = _SDK / "demo"
BUNDLE = _SDK / "dist" / "progress-sync.js"
# The built files the pages load: the core, and live sync for the second device.
BUILT = (BUNDLE, BUNDLE.with_name("live.js"))
TOKEN_TTL = timedelta(minutes=15)
_LOOPBACK_NAMES = [LOOPBACK_HOST, "localhost"]
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names them, binds none
_MAX_TOKEN_BODY = 1024
_NOT_BUILT = "the SDK is not built: run `npm ci && npm run build` in clients/js"
_GATEWAY_TIMEOUT_SECONDS = 5.0

log = get_logger(__name__)


class TokenRequest(BaseModel):
    """Whom the demo signs in as."""

    model_config = ConfigDict(extra="forbid")

    userId: Id


class TokenGrant(BaseModel):
    """A user token and how many seconds it lives."""

    token: str
    expiresIn: int


_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": TokenRequest.model_json_schema()}},
    }
}


async def _token_request(request: Request, timeout_seconds: float) -> TokenRequest:
    """The body, read only up to its size and time bounds, then validated.

    A 422 names the field; a client trickling bytes gets a 408, not a connection held open.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, "the body must be application/json")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > _MAX_TOKEN_BODY:
                    raise HTTPException(413, f"the body may hold at most {_MAX_TOKEN_BODY} bytes")
    except TimeoutError:
        raise HTTPException(408, f"the body did not arrive within {timeout_seconds:g} s") from None
    try:
        return TokenRequest.model_validate_json(bytes(body))
    except ValidationError as error:
        # Where and why only: echoing the input back could not be encoded (bytes that are
        # not UTF-8, infinite numbers) and would turn a bad request into a 500.
        problems = [
            {"loc": problem["loc"], "msg": problem["msg"], "type": problem["type"]}
            for problem in error.errors(include_url=False)
        ]
        raise RequestValidationError(problems) from error


def _gateway_url(settings: Settings) -> str:
    """Where the demo page finds the gateway: a wildcard bind is reached on loopback."""
    host = LOOPBACK_HOST if settings.http_host in _WILDCARD_HOSTS else settings.http_host
    return f"http://{host}:{settings.gateway_port}"


def _serve(built: FilePath) -> Callable[[], FileResponse]:
    """A route answering with `built`, a file of the SDK as `npm run build` built it.

    A plain `def`: FastAPI runs it in its thread pool, off the event loop.
    """

    def serve() -> FileResponse:
        if not built.exists():
            raise HTTPException(404, _NOT_BUILT)
        return FileResponse(built, media_type="text/javascript")

    return serve


async def _course_insights(
    settings: Settings, gateway: str, course_id: str, inactive_days: int
) -> JSONResponse:
    """The gateway's answer (status and JSON body) to the course's insights read.

    A gateway that does not answer in time is a 504 naming it; one that cannot be reached
    or answers something other than JSON is a 502. Both are logged, and the page shows the
    message.
    """
    key = settings.bootstrap_api_key.get_secret_value()
    try:
        async with httpx.AsyncClient(base_url=gateway, timeout=_GATEWAY_TIMEOUT_SECONDS) as client:
            answer = await client.get(
                f"/v1/courses/{course_id}/insights",
                params={"inactiveDays": inactive_days},
                headers={"Authorization": f"Bearer {key}"},
            )
        body = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        log.warning(
            "demo_insights_unavailable", gateway=gateway, course=course_id, error=str(error)
        )
        if isinstance(error, httpx.TimeoutException):
            message = f"the gateway at {gateway} did not answer within {_GATEWAY_TIMEOUT_SECONDS} s"
            return JSONResponse({"error": {"code": "gateway_timeout", "message": message}}, 504)
        message = f"the gateway at {gateway} did not answer: {type(error).__name__}"
        return JSONResponse({"error": {"code": "gateway_unavailable", "message": message}}, 502)
    return JSONResponse(body, answer.status_code)


def create_app(settings: Settings) -> FastAPI:
    """The demo app for `settings`' gateway and bootstrap tenant, answering loopback names only."""
    app = FastAPI(title="Progress Sync SDK demo", docs_url=None, redoc_url=None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=_LOOPBACK_NAMES)
    gateway = _gateway_url(settings)

    @app.get("/config.json")
    async def config() -> dict[str, Any]:
        """Where the page finds the gateway, and the tenant it signs in to."""
        return {"gatewayUrl": gateway, "tenantId": settings.bootstrap_tenant}

    @app.post("/token", response_model=TokenGrant, openapi_extra=_TOKEN_BODY)
    async def token(request: Request) -> TokenGrant:
        """A user token for `userId`: what an app's backend gives its signed-in user."""
        grant = await _token_request(request, settings.http_body_timeout_seconds)
        signed = mint_user_token(
            settings.bootstrap_signing_secret.get_secret_value(),
            settings.bootstrap_tenant,
            grant.userId,
            TOKEN_TTL,
            datetime.now(UTC),
        )
        return TokenGrant(token=signed, expiresIn=int(TOKEN_TTL.total_seconds()))

    @app.get("/insights/{courseId}")
    async def insights(
        courseId: Annotated[Id, Path(description="The catalog course to chart.")],
        inactiveDays: Annotated[int, Query(ge=1, le=365)] = 14,
    ) -> JSONResponse:
        """The course's insights from the gateway, read with the bootstrap tenant's key."""
        return await _course_insights(settings, gateway, courseId, inactiveDays)

    for built in BUILT:
        app.add_api_route(f"/{built.name}", _serve(built), include_in_schema=False)
    app.mount("/", StaticFiles(directory=PAGES, html=True), name="pages")
    return app

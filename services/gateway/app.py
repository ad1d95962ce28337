"""The ingest gateway's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from services.gateway.account_routes import router as account_router
from services.gateway.api_docs import mount_api_docs
from services.gateway.body_limits import BodyLimits
from services.gateway.bulk_routes import router as bulk_router
from services.gateway.catalog_routes import router as catalog_router
from services.gateway.context import GatewayContext, gateway_context
from services.gateway.errors import install_error_handlers
from services.gateway.front_door import CredentialsFirst
from services.gateway.in_flight import InFlightLimit
from services.gateway.insight_routes import router as insight_router
from services.gateway.openapi import build_openapi
from services.gateway.progress_routes import router as progress_router
from services.gateway.request_context import REQUEST_ID_HEADER, RequestContext
from services.gateway.stream_routes import router as stream_router
from services.gateway.xapi_document_routes import router as xapi_document_router
from services.gateway.xapi_resource_routes import router as xapi_resource_router
from services.gateway.xapi_statement_routes import router as xapi_statement_router
from services.gateway.xapi_version_stamp import XapiVersionStamp
from shared.adapters.logs import get_logger
from shared.adapters.ops_http import ops_router
from shared.adapters.settings import Settings

__all__ = ["ContextFactory", "create_app", "end_streams"]

log = get_logger(__name__)

CORS_ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Last-Event-ID",
    REQUEST_ID_HEADER,
    "X-Experience-API-Version",
    "If-Match",
    "If-None-Match",
]
CORS_EXPOSED_HEADERS = [
    "Retry-After",
    REQUEST_ID_HEADER,
    "Progress-Consistent",
    "Progress-Consistency-Token",
    "ETag",
    "X-Experience-API-Version",
    "X-Experience-API-Consistent-Through",
    "Progress-Signature",
]


ContextFactory = Callable[[Settings], AbstractAsyncContextManager[GatewayContext]]
"""Opens the gateway's context for the app's lifetime (`gateway_context`, or one over fakes)."""


def create_app(settings: Settings, context: ContextFactory = gateway_context) -> FastAPI:
    """Build the gateway; it connects to Kafka and MongoDB only when its lifespan starts.

    `context` is the seam for tests: one built from fakes (`build_context` over
    `GatewayPorts`) serves every route in process, with no broker or database.

    Middleware, outermost first: request id, duration metric and last-resort 500
    (`RequestContext`); CORS when origins are set; the xAPI version stamp; the bound on
    requests in the gateway at once, those still receiving a body included (`InFlightLimit`);
    a write's credentials, from its headers, before its body is read (`CredentialsFirst`);
    the body's type, size, read time and depth (`BodyLimits`).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with context(settings) as opened:
            app.state.context = opened
            log.info("gateway_started", kafka=settings.kafka_bootstrap)
            yield

    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Progress Sync",
        version="1.0.0",
        summary="Stores learning-progress events once and serves per-user snapshots.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    mount_api_docs(app)
    app.include_router(progress_router)
    app.include_router(stream_router)
    app.include_router(bulk_router)
    app.include_router(account_router)
    app.include_router(catalog_router)
    app.include_router(insight_router)
    app.include_router(xapi_statement_router)
    app.include_router(xapi_document_router)
    app.include_router(xapi_resource_router)

    async def kafka_ready() -> bool:
        return bool(await app.state.context.kafka_ready())

    async def mongo_ready() -> bool:
        return bool(await app.state.context.mongo_ready())

    app.include_router(ops_router({"kafka": kafka_ready, "mongodb": mongo_ready}))
    app.add_middleware(BodyLimits, timeout=settings.http_body_timeout_seconds)
    app.add_middleware(CredentialsFirst)
    app.add_middleware(InFlightLimit, limit=settings.http_max_in_flight)
    app.add_middleware(XapiVersionStamp)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "PUT", "POST", "DELETE"],
            allow_headers=CORS_ALLOWED_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(RequestContext)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def end_streams(app: FastAPI) -> None:
    """Shutdown has begun: end every live stream with `closed` reason `shutdown`."""
    context = getattr(app.state, "context", None)
    if context is not None:
        context.streams.end_all("shutdown")

"""The ingest gateway's ASGI application."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from services.gateway.account_routes import router as account_router
from services.gateway.api_docs import mount_api_docs
from services.gateway.body_limits import BodyLimits
from services.gateway.bulk_routes import router as bulk_router
from services.gateway.catalog_routes import router as catalog_router
from services.gateway.context import gateway_context
from services.gateway.errors import install_error_handlers
from services.gateway.openapi import build_openapi
from services.gateway.progress_routes import router as progress_router
from services.gateway.xapi_state_routes import router as xapi_state_router
from services.gateway.xapi_statement_routes import router as xapi_statement_router
from shared.adapters.logs import bind_context, get_logger
from shared.adapters.metrics import GATEWAY_REQUEST_SECONDS
from shared.adapters.ops_http import ops_router
from shared.adapters.settings import Settings

__all__ = ["create_app"]

log = get_logger(__name__)
_REQUEST_ID_HEADER = "X-Request-ID"


def create_app(settings: Settings) -> FastAPI:
    """Build the gateway; it connects to Kafka and MongoDB only when its lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with gateway_context(settings) as context:
            app.state.context = context
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

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get(_REQUEST_ID_HEADER, "")
        request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else ""
        request_id = request_id or uuid.uuid4().hex
        request.state.request_id = request_id
        bind_context(request_id=request_id)
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        GATEWAY_REQUEST_SECONDS.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - started)
        response.headers[_REQUEST_ID_HEADER] = request_id
        return response

    mount_api_docs(app)
    app.include_router(progress_router)
    app.include_router(bulk_router)
    app.include_router(account_router)
    app.include_router(catalog_router)
    app.include_router(xapi_statement_router)
    app.include_router(xapi_state_router)

    async def kafka_ready() -> bool:
        return bool(await app.state.context.kafka_ready())

    async def mongo_ready() -> bool:
        return bool(await app.state.context.mongo_ready())

    app.include_router(ops_router({"kafka": kafka_ready, "mongodb": mongo_ready}))
    app.add_middleware(BodyLimits)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "PUT", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "X-Experience-API-Version",
                "If-Match",
                "If-None-Match",
            ],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "Progress-Consistency-Token",
                "ETag",
                "X-Experience-API-Version",
                "X-Experience-API-Consistent-Through",
            ],
            max_age=600,
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

"""The operational HTTP endpoints every service exposes: /healthz and /readyz on its own port.

Metrics are not among them: `serving.serve_metrics` serves them on `PROGRESS_METRICS_PORT`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import Document, ping

__all__ = ["ReadinessCheck", "dependency_checks", "ops_router"]

ReadinessCheck = Callable[[], Awaitable[bool]]

_CHECK_TIMEOUT_SECONDS = 2.0
_PING_TIMEOUT_SECONDS = 1.5


def dependency_checks(
    broker: KafkaBroker, db: AsyncDatabase[Document]
) -> dict[str, ReadinessCheck]:
    """Readiness checks of a consumer service: Kafka answers metadata, MongoDB answers ping."""

    async def kafka_ready() -> bool:
        return await broker.ping(_PING_TIMEOUT_SECONDS)

    async def mongo_ready() -> bool:
        return await ping(db)

    return {"kafka": kafka_ready, "mongodb": mongo_ready}


async def _run_check(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), _CHECK_TIMEOUT_SECONDS)
    except Exception:  # a check that fails or hangs means "not ready"
        return False


def ops_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    """Liveness (the process answers) and readiness (each named dependency answers).

    `/readyz` answers 200 only when every check passes within two seconds, else 503, with
    each check's result in the body so an operator sees which dependency is down.
    """
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: Kafka and MongoDB answer")
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
        outcome = {
            name: "ok" if ok else "unavailable" for name, ok in zip(names, results, strict=True)
        }
        ready = all(results)
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": outcome},
            status_code=200 if ready else 503,
        )

    return router

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

from shared.adapters.kafka_consuming import ConsumerLoop
from shared.adapters.logs import get_logger
from shared.adapters.metrics import CONSUMER_STALLS
from shared.adapters.mongo import Document, ping

__all__ = ["ReadinessCheck", "dependency_checks", "ops_router"]

log = get_logger(__name__)

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


def ops_router(
    checks: Mapping[str, ReadinessCheck], consumer: ConsumerLoop | None = None
) -> APIRouter:
    """Liveness and readiness (each named dependency answers).

    `/healthz` is answered by the process's event loop, so an answer at all means the loop
    runs (all the gateway asks of it). A consumer's also answers 503 with a `reason` while
    a batch it holds makes no progress (`ConsumerLiveness`): a liveness probe then restarts
    it. `/readyz` answers 200 only when every check passes within two seconds, else 503,
    with each check's result in the body so an operator sees which dependency is down.
    """
    router = APIRouter(tags=["operations"])

    @router.get(
        "/healthz",
        summary="Liveness: the event loop answers (a consumer: and its batches progress)",
        response_model=dict[str, str],
        responses={503: {"description": "A consumer holds a batch that makes no progress"}},
    )
    async def healthz() -> JSONResponse:
        if consumer is None or (stall := consumer.liveness.stall()) is None:
            return JSONResponse({"status": "ok"})
        CONSUMER_STALLS.labels(consumer.service).inc()
        log.warning("consumer_stalled", service=consumer.service, reason=stall)
        return JSONResponse({"status": "stalled", "reason": stall}, status_code=503)

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

"""A consumer's `/healthz` says when its loop stopped making progress while it has work.

The production projector app, in process, with a projection that blocks on a dependency
that never answers (until the test lets it go): no SIGSTOP needed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import httpx
import pytest

from services.consumer_bootstrap import ProjectionOverrides
from services.projector.app import create_app
from shared.adapters.metrics import CONSUMER_STALLS
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain import RecordedEvent
from shared.service_layer.projection import Projection, ProjectionReport
from tests.support.kafka_probe import produce_events

pytestmark = pytest.mark.e2e

# Wide enough that a loaded machine answers the first probe before the bound passes.
_STALL_SECONDS = 3.0


async def test_a_projector_whose_batch_stalls_answers_503_until_it_moves_again(
    settings: Settings,
) -> None:
    own = settings.model_copy(
        update={
            "projector_group": f"stall-{uuid.uuid4().hex[:8]}",
            "mongo_database": f"stall_{uuid.uuid4().hex[:8]}",
            "consumer_stall_seconds": _STALL_SECONDS,
        }
    )
    await produce_events(own, EVENTS_TOPIC, 1, prefix=f"stall-{uuid.uuid4().hex[:8]}")
    holding, release = asyncio.Event(), asyncio.Event()

    class Blocked(Projection):
        async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
            holding.set()
            await release.wait()
            return await super().project(events)

    app = create_app(own, ProjectionOverrides(projection=Blocked))
    stalls = CONSUMER_STALLS.labels("projector")
    stalls_before = stalls._value.get()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://projector") as probe,
    ):
        try:
            await asyncio.wait_for(holding.wait(), 30)
            assert (await probe.get("/healthz")).status_code == 200  # held, not yet too long
            await asyncio.sleep(_STALL_SECONDS + 0.2)
            stalled = await probe.get("/healthz")
            assert stalled.status_code == 503
            body = stalled.json()
            assert body["status"] == "stalled"
            assert "PROGRESS_CONSUMER_STALL_SECONDS" in body["reason"]
            assert stalls._value.get() == stalls_before + 1
        finally:
            # The app's shutdown waits for the held batch: a failed check must not hang it.
            release.set()
        for _ in range(50):
            if (await probe.get("/healthz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the projector's /healthz stayed 503 after its batch moved again")

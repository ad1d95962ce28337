"""After the campaign: the course insights equal a recount of the snapshots.

The insights consumer was killed under load with the other services; once it has consumed
every announcement, its sums must be what a recount finds (`Insights.differences`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from shared.adapters.insight_store import mongo_insights
from shared.adapters.kafka import consumer_lag
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC

__all__ = ["insights_check"]


async def insights_check(settings: Settings, catch_up_seconds: float) -> dict[str, Any]:
    """Wait (up to `catch_up_seconds`) for the consumer to catch up, then compare."""
    started = time.monotonic()
    lag = -1
    while time.monotonic() - started < catch_up_seconds:
        lag = sum((await consumer_lag(settings, settings.insights_group, CHANGES_TOPIC)).values())
        if lag == 0:
            break
        await asyncio.sleep(1.0)
    client = mongo_client(settings.model_copy(update={"mongo_timeout_ms": 60_000}))
    try:
        differences = await mongo_insights(client[settings.mongo_database]).differences(None)
    finally:
        await client.close()
    return {
        "lag_at_check": lag,
        "caught_up_seconds": round(time.monotonic() - started, 1),
        "scopes_differing": len(differences),
        "differences": {
            f"{tenant}/{scope}": found for (tenant, scope), found in differences.items()
        },
    }

"""A process that tracks numbered events through the SDK, for the kill -9 and sharing tests.

Prints one JSON line when done: how many events this process's flusher sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta

from progress_sync_client import AsyncProgressClient


async def run(arguments: argparse.Namespace) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    client = AsyncProgressClient(
        arguments.url,
        api_key=arguments.api_key,
        outbox=arguments.outbox,
        client_id=arguments.prefix,
        max_batch_events=arguments.batch,
        lease_seconds=arguments.lease,
        close_timeout=60,
    )
    await client.start()
    for index in range(arguments.count):
        event = client.events.media_progressed(
            f"video-{index % 7}",
            float(index),
            watched_seconds=1.0,
            event_id=f"{arguments.prefix}-{index}",
            occurred_at=start + timedelta(milliseconds=index),
        )
        await client.track(arguments.user, event)
    print(json.dumps({"tracked": arguments.count}), flush=True)
    report = await client.close()
    print(json.dumps({"sent": report.status.sent, "drained": report.drained}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--lease", type=float, default=60.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

"""Keeping accepted events across a stop of an in-memory broker: park them, then put them back.

The embedded development broker loses every message when it stops. Before it does, the
messages its consumer groups have not consumed yet (events not projected, failed events
waiting in a retry tier) are parked in the database; at the next start, once the topics
exist again, each is published back onto its own topic, with its key and headers (so a
retry keeps its attempt count and due time), and forgotten only once the broker has
acknowledged it. An accepted event is so always in the snapshot, waiting on a topic, parked,
or a dead letter, whatever the number of stops and starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.service_layer.ports import ParkedMessages, TopicBacklog

__all__ = ["PUBLISH_CHUNK", "park_unconsumed", "republish_parked"]

PUBLISH_CHUNK = 500
"""Messages published (and then forgotten) per round, so a failure repeats little."""


async def park_unconsumed(
    backlog: TopicBacklog, parked: ParkedMessages, sources: Sequence[tuple[str, str]]
) -> int:
    """Park what each (topic, consumer group) of `sources` has not consumed yet.

    Run only once the consumers have stopped, so nothing moves while it reads. Parking
    twice keeps each message once. Returns how many messages were newly parked.
    """
    new = 0
    for topic, group in sources:
        messages = await backlog.unconsumed(topic, group)
        if messages:
            new += await parked.park(messages)
    return new


async def republish_parked(backlog: TopicBacklog, parked: ParkedMessages) -> int:
    """Publish every parked message back onto its topic, oldest first; return how many.

    Each chunk is forgotten only after the broker acknowledged all of it, so an outage
    leaves the rest parked for the next start (a message published but not yet forgotten
    is published again then: consumers store each event once).
    """
    waiting = await parked.all()
    for start in range(0, len(waiting), PUBLISH_CHUNK):
        chunk = waiting[start : start + PUBLISH_CHUNK]
        await backlog.publish(chunk)
        await parked.remove([message.message_id for message in chunk])
    return len(waiting)

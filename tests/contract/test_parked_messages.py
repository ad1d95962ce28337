"""The parked-messages store's contract, real and fake: kept once, in order, bytes intact."""

from __future__ import annotations

import pytest

from shared.service_layer.topic_messages import TopicMessage
from tests.contract.conftest import Stores


def parked(key: str | None, n: int, topic: str = "progress.events.retry.60s") -> TopicMessage:
    return TopicMessage(
        topic=topic,
        key=None if key is None else key.encode(),
        value=f'{{"n": {n}}}'.encode(),
        headers=(("attempt", b"4"), ("due-at", b"2026-11-20T10:00:00+00:00"), ("raw", b"\xff\x00")),
    )


async def test_messages_are_kept_once_in_the_order_they_were_parked(stores: Stores) -> None:
    first = [parked("demo/u1", n) for n in (3, 1, 2)]
    assert await stores.parked.park(first) == 3
    assert await stores.parked.park([first[1], parked("demo/u2", 4, "progress.events")]) == 1
    assert await stores.parked.park([]) == 0
    assert await stores.parked.all() == [*first, parked("demo/u2", 4, "progress.events")]


async def test_bytes_headers_and_a_missing_key_come_back_exactly(stores: Stores) -> None:
    odd = TopicMessage("progress.events", None, b"\x00\xffnot json", (("a", b""), ("a", b"2")))
    await stores.parked.park([odd, parked("", 1)])
    assert await stores.parked.all() == [odd, parked("", 1)]


async def test_removing_forgets_what_it_names_and_counts_it(stores: Stores) -> None:
    messages = [parked("demo/u1", n) for n in range(3)]
    await stores.parked.park(messages)
    removed = [messages[0].message_id, messages[2].message_id, "no-such-message"]
    assert await stores.parked.remove(removed) == 2
    assert await stores.parked.all() == [messages[1]]
    assert await stores.parked.remove([]) == 0


@pytest.mark.unit
def test_the_id_changes_with_anything_the_message_carries() -> None:
    base = parked("demo/u1", 1)
    variants = [
        TopicMessage("other", base.key, base.value, base.headers),
        TopicMessage(base.topic, None, base.value, base.headers),
        TopicMessage(base.topic, b"", base.value, base.headers),
        TopicMessage(base.topic, base.key, b"{}", base.headers),
        TopicMessage(base.topic, base.key, base.value, base.headers[:2]),
        TopicMessage(base.topic, base.key, base.value, (("attempt", b"3"), *base.headers[1:])),
    ]
    ids = {message.message_id for message in [base, *variants]}
    assert len(ids) == len(variants) + 1
    assert parked("demo/u1", 1).message_id == base.message_id
    assert base.owner == ("demo", "u1")
    assert [parked(k, 1).owner for k in (None, "", "demo", "demo/", "/u1")] == [None] * 5

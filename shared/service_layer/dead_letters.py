"""The operator's dead-letter use cases: replay letters onto the events topic, purge them."""

from __future__ import annotations

from collections.abc import Sequence

from shared.service_layer.dead_letter_records import PENDING, LetterFilter, StoredLetter
from shared.service_layer.ports import DeadLetterStore, MessageRepublisher

__all__ = ["pending_letters", "purge", "replay"]


async def pending_letters(letters: DeadLetterStore, tenant_id: str | None) -> list[StoredLetter]:
    """The letters not replayed yet (of one tenant, or all), newest first."""
    return await letters.find(LetterFilter(tenant_id=tenant_id, state=PENDING))


async def replay(
    letters: DeadLetterStore, publisher: MessageRepublisher, chosen: Sequence[StoredLetter]
) -> list[str]:
    """Publish each letter back onto the events topic, then mark it replayed.

    Each publish waits for the broker's acknowledgement before the letter is marked, so a
    failure leaves the letter pending; replaying again is safe (events are stored once).
    Returns the ids of the letters replayed.
    """
    replayed: list[str] = []
    for stored in chosen:
        letter = stored.letter
        await publisher.republish(letter.raw, letter.key, letter.request_id)
        if await letters.mark_replayed(stored.letter_id):
            replayed.append(stored.letter_id)
    return replayed


async def purge(letters: DeadLetterStore, letter_id: str | None, selection: LetterFilter) -> int:
    """Delete one letter (`letter_id`), or every letter `selection` matches; return how many."""
    if letter_id is not None:
        return await letters.delete([letter_id])
    return await letters.delete_matching(selection)

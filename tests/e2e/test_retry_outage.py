"""A MongoDB outage is not a message failure: nothing is retried or dead-lettered because of it.

Destructive: the stack has its own broker and database, so the session's are never frozen.
"""

from __future__ import annotations

import time
import uuid
from functools import partial
from pathlib import Path

import pytest

from shared.adapters.topics import TIER_TOPICS
from tests.support.projector import metric
from tests.support.retry_stack import Message, progressed, retry_stack
from tests.support.services import eventually

pytestmark = pytest.mark.e2e

FREEZE_SECONDS = 12
"""Long enough that the 5s tier's retry (due 4-6 s into the freeze) meets the frozen
database, and six of this stack's 2 s database timeouts."""


def test_a_frozen_database_pauses_the_consumers_and_dead_letters_nothing(
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:6]
    retried = [f"twice-{run}-{n}" for n in range(3)]  # fail in the projector and on retry 1
    calm = [f"calm-{run}-{n}" for n in range(3)]
    junk = b"not an event " + run.encode()
    with retry_stack(tmp_path, {"twice-": 2}, mongo_timeout_ms=2000) as stack:
        stack.wait_until_consuming()
        stack.publish(*(progressed(e, f"user-{e}", "lesson") for e in retried))
        # Both failures are recorded; the retry from the 5s tier is due 4-6 s later.
        eventually(lambda: all(len(stack.attempts_of(e)) == 2 for e in retried) or None)
        database = stack.backend.database_faults()
        database.freeze()
        try:
            # During the freeze: new events for the projector, and an undecodable message
            # whose dead letter cannot be written yet (so its offset must not be committed).
            stack.publish(*(progressed(e, f"user-{e}", "lesson") for e in calm))
            stack.publish(Message(key=b"demo/junk", value=junk, headers={}))
            time.sleep(FREEZE_SECONDS)
        finally:
            database.thaw()

        for event_id in [*retried, *calm]:
            snapshot = eventually(partial(stack.snapshot, f"user-{event_id}"), timeout=90)
            assert snapshot.items["lesson"].status == "completed"
        (letter,) = eventually(lambda: stack.dead_letters() or None, timeout=30)
        assert bytes(letter["raw"]) == junk
        assert [item["attempt"] for item in letter["attempts"]] == [1]
        # No attempt was burned by the outage: two failures and one success each, and
        # nothing went past the 5s tier.
        for event_id in retried:
            outcomes = [item["outcome"] for item in stack.attempts_of(event_id)]
            assert outcomes == ["failed", "failed", "passed"]
        assert not [m for m in stack.read(TIER_TOPICS[2]) if b"twice-" in m.value]
        time.sleep(2)
        assert len(stack.dead_letters()) == 1
        for server in (stack.projector, stack.worker):
            assert metric(server, "progress_projector_outages_total") >= 1

"""Live sync between two browser profiles (two devices of one learner) against a real stack.

Device A plays a video (heartbeats with watch time) and marks lessons done; device B follows
with `live()`. Each change shows on B within 1 s, and again after B's network drops and
returns: B resumes from its cursor, misses nothing and folds nothing twice (the watch time,
a sum, would show a repeat).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import open_page, server_snapshot, start, user_token
from tests.support.services import Stack

pytestmark = pytest.mark.e2e

VISIBLE_WITHIN_SECONDS = 1.0


@pytest.fixture
def other_context(chromium: Any) -> Iterator[Any]:
    """A second browser profile: another device, with storage and network of its own."""
    context = chromium.new_context()
    yield context
    context.close()


def watch(page: Any, second: int) -> None:
    """Device A reports 5 s of watching (a heartbeat at `second`) and sends it at once."""
    page.evaluate(
        """(second) => window.client.track(window.sdk.mediaProgressed({
          contentId: "video-1", positionSeconds: second, durationSeconds: 600, watchedSeconds: 5,
        })).then(() => window.client.flush())""",
        second,
    )


def seen_within(page: Any, watched: int, timeout: float) -> float:
    """Seconds until device B's snapshot shows `watched` seconds of video-1 (or fail)."""
    began = time.monotonic()
    page.wait_for_function(
        f"window.client.getSnapshot().items['video-1']?.media?.watchedSeconds === {watched}",
        timeout=timeout * 1000 + 5000,
    )
    return time.monotonic() - began


def test_a_change_on_one_device_shows_on_the_other_within_a_second_also_after_a_network_drop(
    context: Any, other_context: Any, site: str, browser_stack: Stack
) -> None:
    gateway = browser_stack.gateway_url
    user = f"live-{uuid.uuid4().hex[:10]}"
    device_a = open_page(context, site)
    start(device_a, gateway, user, [user_token(user)], debounceMs=20)
    device_b = open_page(other_context, site)
    start(device_b, gateway, user, [user_token(user)])
    device_b.evaluate("window.live()")
    device_b.wait_for_function("window.client.getStatus().live === 'live'", timeout=10_000)

    delays = []
    for step in range(1, 4):
        began = time.monotonic()
        watch(device_a, step * 10)
        delays.append(time.monotonic() - began + seen_within(device_b, 5 * step, 1.0))

    other_context.set_offline(True)
    device_b.wait_for_function("window.client.getStatus().live === 'connecting'", timeout=10_000)
    for step in range(4, 7):
        watch(device_a, step * 10)
    other_context.set_offline(False)
    caught_up = seen_within(device_b, 30, 1.0)
    device_b.wait_for_function("window.client.getStatus().live === 'live'", timeout=10_000)
    began = time.monotonic()
    watch(device_a, 70)
    delays.append(time.monotonic() - began + seen_within(device_b, 35, 1.0))

    print(
        f"seen on the other device after {[round(d, 3) for d in delays]} s; "
        f"caught up {caught_up:.3f} s after the network returned"
    )
    assert max(delays) < VISIBLE_WITHIN_SECONDS, delays
    assert caught_up < VISIBLE_WITHIN_SECONDS, caught_up
    stored = server_snapshot(gateway, user)
    seen = device_b.evaluate("window.client.getSnapshot()")
    assert stored["eventCount"] == 7
    assert seen["eventCount"] == 7, "an event was folded twice, or missed"
    assert seen["items"] == stored["items"]
    assert device_b.evaluate("window.log.errors") == []

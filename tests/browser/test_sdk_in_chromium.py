"""The browser SDK in headless Chromium against a real stack, from another origin.

What the issue asks of it in a real browser: nothing tracked is lost offline, across a reload,
with two tabs, or while the broker is stopped; a rejected token is renewed through the app's
getToken(); a per-event rejection reaches the app's error callback. Live sync between two
browser profiles (two devices of one learner): device A reports watching, device B follows
with `live()` and sees each change within 1 s, also after its network drops and returns,
resuming from its cursor with nothing missed and nothing folded twice (the watch time, a
sum, would show a repeat).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.browser.conftest import (
    open_page,
    outbox_size,
    server_snapshot,
    start,
    user_token,
    wait_for_log,
)
from tests.support.backends import PrivateBroker
from tests.support.services import Stack

pytestmark = pytest.mark.e2e


def new_user() -> str:
    return f"browser-{uuid.uuid4().hex[:10]}"


def sent_writes(page: Any) -> list[dict[str, Any]]:
    """Record the page's answered PUT requests: URL, eventIds and status."""
    writes: list[dict[str, Any]] = []

    def record(response: Any) -> None:
        request = response.request
        if request.method == "PUT":
            ids = [event["eventId"] for event in json.loads(request.post_data)["events"]]
            writes.append({"url": request.url, "ids": ids, "status": response.status})

    page.on("response", record)
    return writes


def status(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.client.getStatus()"))


def test_events_tracked_offline_all_reach_the_server_after_going_online(
    context: Any, site: str, browser_stack: Stack
) -> None:
    user = new_user()
    page = open_page(context, site)
    start(page, browser_stack.gateway_url, user, [user_token(user)])
    context.set_offline(True)
    page.evaluate("window.trackSteps('offline', 25)")
    page.wait_for_function("window.client.getStatus().state === 'offline'")
    assert status(page)["pendingCount"] == 25
    context.set_offline(False)
    page.wait_for_function("window.client.getStatus().state === 'idle'", timeout=30_000)
    log = wait_for_log(browser_stack.gateway_url, user, 25)
    assert sorted(e["payload"]["contentId"] for e in log) == sorted(
        f"offline-{n}" for n in range(25)
    )


def test_a_reload_with_a_full_outbox_loses_nothing(
    context: Any, site: str, browser_stack: Stack
) -> None:
    user = new_user()
    page = open_page(context, site)
    start(page, browser_stack.gateway_url, user, [user_token(user)], debounceMs=60_000)
    page.evaluate("window.trackSteps('reload', 30)")
    assert status(page)["pendingCount"] == 30
    # The page-hide flush must not be what saves the events: the outbox must.
    page.route("**/progress", lambda route: route.abort())
    page.reload()
    page.unroute("**/progress")
    page.wait_for_function("window.ready === true")
    assert outbox_size(page) == 30, "the outbox outlived the page"
    assert wait_for_log(browser_stack.gateway_url, user, 0) == []
    start(page, browser_stack.gateway_url, user, [user_token(user)])
    page.wait_for_function("window.client.getStatus().state === 'idle'", timeout=30_000)
    assert len(wait_for_log(browser_stack.gateway_url, user, 30)) == 30
    assert outbox_size(page) == 0


def test_two_tabs_send_each_event_once_through_a_single_flusher(
    context: Any, site: str, browser_stack: Stack
) -> None:
    user = new_user()
    tabs = [open_page(context, site) for _ in range(2)]
    writes = [sent_writes(tab) for tab in tabs]
    for index, tab in enumerate(tabs):
        token = [user_token(user)]
        start(tab, browser_stack.gateway_url, user, token, leads=index == 0, debounceMs=50)
    for index, tab in enumerate(tabs):
        tab.evaluate(f"window.busy = window.trackSteps('tab{index}', 60)")
    for tab in tabs:
        tab.evaluate("window.busy")
    for tab in tabs:
        tab.wait_for_function(
            "window.client.getStatus().state === 'idle' && "
            "window.client.getStatus().pendingCount === 0",
            timeout=30_000,
        )
    log = wait_for_log(browser_stack.gateway_url, user, 120)
    assert len(log) == 120
    flushers = [index for index, tab_writes in enumerate(writes) if tab_writes]
    assert len(flushers) == 1, f"tabs {flushers} both sent"
    sent = Counter(event_id for write in writes[flushers[0]] for event_id in write["ids"])
    assert len(sent) == 120
    assert max(sent.values()) == 1, "an event went out twice"


def test_a_stopped_broker_shows_retrying_then_synced_without_loss(
    context: Any, site: str, browser_stack: Stack, broker: PrivateBroker
) -> None:
    user = new_user()
    page = open_page(context, site)
    start(page, browser_stack.gateway_url, user, [user_token(user)])
    page.evaluate("window.trackSteps('before', 3)")
    page.wait_for_function("window.client.getStatus().state === 'idle'", timeout=30_000)
    broker.faults.freeze()
    try:
        page.evaluate("window.trackSteps('during', 5)")
        page.wait_for_function(
            "window.client.getStatus().state === 'pending' && "
            "window.client.getStatus().retryInMs > 0",
            timeout=30_000,
        )
        retrying = status(page)
    finally:
        broker.faults.thaw()
    assert retrying["pendingCount"] == 5
    assert retrying["retryInMs"] == 5000, "the gateway's Retry-After is honoured"
    page.wait_for_function("window.client.getStatus().state === 'idle'", timeout=90_000)
    log = wait_for_log(browser_stack.gateway_url, user, 8, timeout=60)
    assert len(log) == 8


def test_a_revoked_token_makes_the_client_ask_get_token_again(
    context: Any, site: str, browser_stack: Stack
) -> None:
    user = new_user()
    page = open_page(context, site)
    writes = sent_writes(page)
    tokens = [user_token(user, ttl=timedelta(seconds=2)), user_token(user)]
    start(page, browser_stack.gateway_url, user, tokens)
    page.wait_for_function("window.client.getStatus().state === 'idle'")
    time.sleep(3)  # the first token has expired: the server now refuses it
    page.evaluate("window.trackSteps('token', 2)")
    page.wait_for_function(
        "window.client.getStatus().state === 'idle' && window.client.getStatus().lastSyncedAt",
        timeout=30_000,
    )
    assert page.evaluate("window.log.tokenCalls") == 2
    assert len(writes) == 2, "one 401, then the same batch with the new token"
    assert writes[0]["ids"] == writes[1]["ids"]
    assert writes[0]["status"] == 401
    assert writes[1]["status"] == 202
    assert len(wait_for_log(browser_stack.gateway_url, user, 2)) == 2


def test_a_per_event_rejection_reaches_the_error_callback(
    context: Any, site: str, browser_stack: Stack
) -> None:
    user = new_user()
    page = open_page(context, site)
    start(page, browser_stack.gateway_url, user, [user_token(user)])
    page.evaluate(
        """async () => {
          await window.client.track({type: "content.progressed", eventId: "bad-1",
                                     payload: {contentId: "a", status: "finished"}});
          await window.client.track(window.sdk.contentProgressed(
            {contentId: "b", status: "completed"}, {eventId: "good-1"}));
          await window.client.flush();
        }"""
    )
    errors = page.evaluate("window.log.errors")
    assert [error["kind"] for error in errors] == ["rejected"]
    assert [event["eventId"] for event in errors[0]["events"]] == ["bad-1"]
    assert "status" in errors[0]["events"][0]["reason"]
    assert status(page)["pendingCount"] == 0
    log = wait_for_log(browser_stack.gateway_url, user, 1)
    assert [event["eventId"] for event in log] == ["good-1"]


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

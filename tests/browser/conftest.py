"""Headless Chromium against a stack of its own, the SDK served from another origin.

The pages come from a static server on one port and call a gateway on another, so every
request crosses origins (CORS). The stack has its own broker so that a test can stop it;
its services use the session's database.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import create_topics
from shared.adapters.user_tokens import mint_user_token
from tests.support.backends import PrivateBroker, private_broker
from tests.support.browser import BUNDLE, CHROMIUM, CHROMIUM_ARGS, SDK_DIR, static_site
from tests.support.services import (
    TEST_API_KEY,
    TEST_SIGNING_SECRET,
    Stack,
    eventually,
    running_stack,
    service_process,
)

pytestmark = pytest.mark.e2e


def _built_bundle() -> Path:
    """The SDK bundle (and live.js beside it), built first when npm's packages are there."""
    built = (BUNDLE, BUNDLE.with_name("live.js"))
    if not all(path.exists() for path in built) and (SDK_DIR / "node_modules").exists():
        subprocess.run(["npm", "run", "--silent", "build"], cwd=SDK_DIR, check=True)
    if not all(path.exists() for path in built):
        pytest.skip("the browser SDK is not built: run `npm ci && npm run build` in clients/js")
    return BUNDLE


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test page and the bundle on a static server of their own origin."""
    _built_bundle()
    with static_site(tmp_path_factory.mktemp("sdk-site")) as origin:
        yield origin


@pytest.fixture(scope="module")
def broker(workdir: Path) -> Iterator[PrivateBroker]:
    with private_broker(workdir / "browser-broker") as server:
        yield server


@pytest.fixture(scope="module")
def browser_stack(
    settings: Settings, broker: PrivateBroker, site: str, workdir: Path
) -> Iterator[Stack]:
    """The services and an insights consumer on the module's broker, CORS open to the pages."""
    own = settings.model_copy(
        update={
            "kafka_bootstrap": broker.bootstrap,
            "gateway_port": free_port(),
            "projector_port": free_port(),
            "retry_worker_port": free_port(),
            "insights_port": free_port(),
            "cors_origins": f"{site},http://127.0.0.1:{settings.demo_port}",
            "kafka_request_timeout_ms": 2000,
            # A token expires when its exp says: the revoked-token test waits 3 s, not 30.
            "user_token_clock_skew_seconds": 0,
        }
    )
    asyncio.run(create_topics(own))
    logs = workdir / "browser-logs"
    # The insights page's figures: its consumer starts beside the stack's, not after it.
    insights = service_process(own, "insights", "services.insights", own.insights_port, logs)
    insights.launch()
    try:
        with running_stack(own, logs) as stack:
            insights.wait(timeout=90)
            yield stack
    finally:
        insights.stop()


@pytest.fixture(scope="module")
def demo(browser_stack: Stack, workdir: Path) -> Iterator[str]:
    """The SDK demo (`services.demo`, as `make run` starts it) for the module's gateway."""
    _built_bundle()
    settings = browser_stack.settings
    server = service_process(
        settings, "demo", "services.demo", settings.demo_port, workdir / "browser-logs"
    )
    server.launch()
    try:
        server.wait(timeout=60)
        yield f"http://127.0.0.1:{settings.demo_port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium(browser_stack: Stack) -> Iterator[Any]:
    """Chromium, launched after the stack: Playwright's sync API holds an event loop."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile: its own IndexedDB, locks and tabs."""
    context = chromium.new_context()
    yield context
    context.close()


def user_token(user_id: str, ttl: timedelta = timedelta(hours=1)) -> str:
    """A user token for the bootstrap tenant, valid for `ttl` from now."""
    return mint_user_token(TEST_SIGNING_SECRET, "demo", user_id, ttl, datetime.now(UTC))


def outbox_size(page: Any, name: str = "default") -> int:
    """Entries in the page's IndexedDB outbox, read without the SDK."""
    script = """(name) => new Promise((resolve, reject) => {
      const open = indexedDB.open(`progress-sync:${name}`);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const count = open.result.transaction("outbox").objectStore("outbox").count();
        count.onsuccess = () => { open.result.close(); resolve(count.result); };
      };
    })"""
    return int(page.evaluate(script, name))


def open_page(context: Any, site: str) -> Any:
    page = context.new_page()
    page.goto(f"{site}/index.html")
    page.wait_for_function("window.ready === true")
    return page


def start(
    page: Any, gateway: str, user_id: str, tokens: list[str], *, leads: bool = True, **options: Any
) -> None:
    """Create the page's client (debounce 100 ms unless given).

    A tab that `leads` is waited for until it has made its first read, which it does after
    its first drain as the flusher.
    """
    config = {"baseUrl": gateway, "userId": user_id, "tokens": tokens, "debounceMs": 100}
    page.evaluate("(config) => window.start(config)", {**config, **options})
    if leads:
        page.wait_for_function("window.log.reads > 0")


def server_events(gateway: str, user_id: str) -> list[dict[str, Any]]:
    """Every event in the user's log, oldest first (read with the API key)."""
    events: list[dict[str, Any]] = []
    cursor = "0"
    while True:
        page = httpx.get(
            f"{gateway}/v1/users/{user_id}/progress",
            params={"since": cursor},
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
            timeout=10,
        ).json()
        events += page["events"]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return events


def server_snapshot(gateway: str, user_id: str) -> dict[str, Any]:
    """The user's snapshot as the server holds it (read with the API key)."""
    answer = httpx.get(
        f"{gateway}/v1/users/{user_id}/progress",
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        timeout=10,
    )
    return dict(answer.raise_for_status().json()["snapshot"])


def wait_for_log(gateway: str, user_id: str, count: int, timeout: float = 30) -> list[Any]:
    """The user's log once it holds `count` events."""
    return eventually(
        lambda: e if len(e := server_events(gateway, user_id)) >= count else None, timeout
    )

"""The demo course player (`make run`'s demo page) in Chromium, against a real stack.

It is what a newcomer watches sync happen in, so it is tested the way they use it: watch,
go offline and keep watching, come back and see the queue drain with no watch time lost,
and lose access (401) without losing an event. The test takes the screenshots the README
shows; set PROGRESS_DEMO_SCREENSHOTS to a directory (docs/images) to keep them.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chaos.routes import discover
from tests.browser.conftest import server_snapshot
from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1280, "height": 820}


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[Any, str], None]:
    """Save a screenshot of the page as `demo-<state>.png`."""
    folder = Path(os.environ.get("PROGRESS_DEMO_SCREENSHOTS", tmp_path))

    def take(page: Any, state: str) -> None:
        page.screenshot(path=str(folder / f"demo-{state}.png"))

    return take


def watch(page: Any, seconds: int) -> None:
    """Play at the page's speed until `seconds` more are watched, then pause."""
    before = page.evaluate("window.demo.watched")
    page.click("#play")
    page.wait_for_function(f"window.demo.watched >= {before + seconds}", timeout=20_000)
    page.click("#play")


def synced(page: Any) -> None:
    page.wait_for_selector("#sync[data-state=idle]", timeout=30_000)


def test_the_demo_syncs_offline_watching_and_keeps_events_through_a_revoked_token(
    context: Any, demo: str, browser_stack: Stack, shoot: Callable[[Any, str], None]
) -> None:
    gateway = browser_stack.gateway_url
    user = f"demo-{uuid.uuid4().hex[:10]}"
    page = context.new_page()
    page.set_viewport_size(VIEWPORT)
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    page.goto(f"{demo}/?user={user}")
    synced(page)

    watch(page, 16)
    synced(page)
    watched = page.evaluate("window.demo.watched")
    eventually(
        lambda: (
            True
            if server_snapshot(gateway, user)["items"]
            .get("kneading-video", {})
            .get("media", {})
            .get("watchedSeconds")
            == watched
            else None
        )
    )
    assert page.inner_text("#sync-label").startswith("Synced")
    shoot(page, "synced")

    page.check("#offline")
    sent_before = len(puts)
    watch(page, 16)
    page.click("#read")
    page.wait_for_function("window.demo.client.getStatus().pendingCount > 0")
    assert page.get_attribute("#sync", "data-state") == "offline"
    assert "queued" in page.inner_text("#sync-label")
    shoot(page, "offline")
    assert len(puts) == sent_before, "nothing is sent while offline"

    page.uncheck("#offline")
    synced(page)
    watched = page.evaluate("window.demo.watched")

    def caught_up() -> dict[str, Any] | None:
        items = server_snapshot(gateway, user)["items"]
        media = items.get("kneading-video", {}).get("media", {})
        done = items.get("flour-reading", {}).get("status") == "completed"
        return items if done and media.get("watchedSeconds") == watched else None

    eventually(caught_up)

    page.check("#revoke")
    page.check("input[name=q1][value=right]")
    page.check("input[name=q2][value=right]")
    page.click("#submit-quiz")
    page.wait_for_selector("#sync[data-state=error]", timeout=30_000)
    assert "HTTP 401" in page.inner_text("#sync-label")
    assert page.evaluate("window.demo.client.getStatus().pendingCount") == 1
    shoot(page, "error")
    assert "dough-quiz" not in server_snapshot(gateway, user)["items"]

    page.uncheck("#revoke")
    synced(page)
    quiz = eventually(lambda: server_snapshot(gateway, user)["items"].get("dough-quiz"))
    assert quiz["status"] == "passed"
    assert quiz["quiz"]["bestScore"] == 2


def test_the_second_device_pane_follows_the_player_live_while_the_video_plays(
    context: Any, demo: str, browser_stack: Stack
) -> None:
    user = f"demo-{uuid.uuid4().hex[:10]}"
    page = context.new_page()
    page.goto(f"{demo}/?user={user}")
    synced(page)
    device = page.frame_locator("#device")
    device.locator("#live[data-live=live]").wait_for(timeout=10_000)
    watched_there = (
        "() => document.querySelector('#device').contentWindow.device.client.getSnapshot()"
        ".items['kneading-video']?.media?.watchedSeconds ?? 0"
    )
    page.click("#play")
    page.wait_for_function(f"({watched_there})() > 0", timeout=15_000)
    assert page.get_attribute("#screen", "data-playing") == "true", "it showed while playing"
    page.click("#play")
    synced(page)
    watched = page.evaluate("window.demo.watched")
    page.wait_for_function(f"({watched_there})() === {watched}", timeout=10_000)
    assert f"watched {watched} s" in device.locator("#outline").inner_text()


def test_the_demo_token_route_refuses_what_is_not_a_small_valid_request(demo: str) -> None:
    bad_user = httpx.post(f"{demo}/token", json={"userId": "no spaces allowed"})
    assert bad_user.status_code == 422
    assert bad_user.json()["detail"][0]["loc"][-1] == "userId"
    extra = httpx.post(f"{demo}/token", json={"userId": "ok", "tenantId": "other"})
    assert extra.status_code == 422
    json_type = {"Content-Type": "application/json"}
    huge = httpx.post(f"{demo}/token", content=b"{" + b" " * 5000 + b"}", headers=json_type)
    assert huge.status_code == 413
    assert httpx.post(f"{demo}/token", content=b"not json", headers=json_type).status_code == 422
    assert httpx.post(f"{demo}/token", content=b'{"userId": "a"}').status_code == 415
    rebound = httpx.post(
        f"{demo}/token", json={"userId": "learner-1"}, headers={"Host": "attacker.example"}
    )
    assert rebound.status_code == 400
    for hostile in (b'{"userId": "\xe9t\xe9"}', b"\xef\xbb", b'{"userId": 1e999}'):
        answer = httpx.post(f"{demo}/token", content=hostile, headers=json_type)
        assert answer.status_code == 422, (hostile, answer.text)
    granted = httpx.post(f"{demo}/token", json={"userId": "learner-1"}).json()
    assert granted["expiresIn"] == 900


def test_make_chaos_finds_and_fuzzes_the_demo_routes(demo: str) -> None:
    routes = {route.label: route for route in discover(demo)}
    assert set(routes) == {"GET /config.json", "POST /token"}
    assert routes["POST /token"].has_body
    assert routes["POST /token"].origin == demo


README = Path(__file__).parents[2] / "clients" / "js" / "README.md"
EXAMPLE = re.compile(r"<!-- example: browser-quickstart -->\s*```js\n(.*?)```", re.DOTALL)


def test_the_sdk_readme_example_runs_in_chromium(
    context: Any, demo: str, browser_stack: Stack
) -> None:
    """The README's quick start, as written, on a page of the demo's origin (its /token)."""
    match = EXAMPLE.search(README.read_text())
    assert match, "clients/js/README.md lost its browser-quickstart example"
    user = f"readme-{uuid.uuid4().hex[:10]}"
    code = (
        match.group(1)
        .replace("http://127.0.0.1:8080", browser_stack.gateway_url)
        .replace("learner-42", user)
    )
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text) if m.type == "log" else None)
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data or "") if r.method == "PUT" else None)
    page.goto(f"{demo}/config.json")
    page.add_script_tag(content=code + "\nwindow.exampleSnapshot = snapshot;\n", type="module")
    page.wait_for_function("window.exampleSnapshot !== undefined", timeout=30_000)
    assert logged == ["completed"]
    assert page.title() == "All progress saved"
    items = page.evaluate("window.exampleSnapshot.items")
    assert items["lesson-1"]["status"] == "completed"
    assert items["video-1"]["media"]["watchedSeconds"] == 5, bodies
    assert server_snapshot(browser_stack.gateway_url, user)["items"]["lesson-1"]["score"] == 90

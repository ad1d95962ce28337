"""The demo course player (`make run`'s demo page) in Chromium, against a real stack.

It is what a newcomer watches sync happen in, so it is tested the way they use it: watch,
go offline and keep watching, come back and see the queue drain with no watch time lost,
and lose access (401) without losing an event. Its insights page draws a course's funnel
and drop-off from the figures of the real stack (with an insights consumer). The tests take
the screenshots the README and docs/insights.md show; set PROGRESS_DEMO_SCREENSHOTS to a
directory (docs/images) to keep them.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chaos.routes import discover
from tests.browser.conftest import server_snapshot
from tests.support.services import TEST_API_KEY, Stack, eventually

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1280, "height": 820}


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[Any, str], None]:
    """Save a screenshot of the page as `demo-<state>.png` (the insights chart's as is)."""
    folder = Path(os.environ.get("PROGRESS_DEMO_SCREENSHOTS", tmp_path))

    def take(page: Any, state: str) -> None:
        name = state if state.startswith("insights") else f"demo-{state}"
        page.screenshot(path=str(folder / f"{name}.png"))

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
    assert set(routes) == {"GET /config.json", "POST /token", "GET /insights/{courseId}"}
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


INSIGHTS_COURSE = "bread-201"
ITEMS = ("knead", "proof", "quiz", "shape", "bake")
KINDS = {"quiz": "quiz", "bake": "video"}
# How far each learner got (items started in course order) and how many days ago they stopped.
REACHED = {
    "ana": (5, 2),
    "ben": (5, 40),
    "cy": (3, 30),
    "dee": (2, 25),
    "eli": (2, 1),
    "fay": (1, 20),
}


def _events(user: str, reached: int, days_ago: int) -> list[dict[str, Any]]:
    """The learner's first `reached` items: done, except the last of one who stopped early."""
    start = datetime.now(UTC) - timedelta(days=days_ago, hours=1)
    events = []
    for n, item in enumerate(ITEMS[:reached]):
        done = n < reached - 1 or reached == len(ITEMS)
        content = f"{INSIGHTS_COURSE}.{item}"
        payload: dict[str, Any] = {"contentId": content, "status": "completed"}
        event_type = "content.progressed"
        if item == "quiz":
            event_type = "quiz.attempted"
            payload = {"contentId": content, "score": 8 if done else 3, "maxScore": 10}
            payload["passed"] = done
        elif not done:
            payload["status"] = "in_progress"
        occurred = (start + timedelta(minutes=5 * n)).isoformat()
        event = {"eventId": f"{user}-{n}", "occurredAt": occurred, "clientId": "web"}
        events.append({**event, "type": event_type, "payload": payload})
    return events


def _drive(api: httpx.Client) -> None:
    definition = {
        "items": [
            {"contentId": f"{INSIGHTS_COURSE}.{item}", "kind": KINDS.get(item, "lesson")}
            for item in ITEMS
        ]
    }
    put = api.put(f"/v1/catalog/courses/{INSIGHTS_COURSE}", json=definition)
    assert put.status_code in (200, 201), put.text
    for user, (reached, days_ago) in REACHED.items():
        body = {"events": _events(f"chart-{user}", reached, days_ago)}
        answer = api.put(f"/v1/users/chart-{user}/progress", json=body)
        assert answer.status_code == 202, answer.text


def test_the_insights_page_draws_the_funnel_and_drop_off_of_a_course(
    context: Any,
    demo: str,
    browser_stack: Stack,
    shoot: Callable[[Any, str], None],
) -> None:
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    with httpx.Client(base_url=browser_stack.gateway_url, headers=headers, timeout=10) as api:
        _drive(api)

        def counted() -> dict[str, Any] | None:
            figures = api.get(f"/v1/courses/{INSIGHTS_COURSE}/insights").json()
            return figures if figures["learners"]["started"] == len(REACHED) else None

        figures = eventually(counted, timeout=30, interval=0.2)
    assert figures["learners"]["completed"] == 2

    page = context.new_page()
    page.set_viewport_size({"width": 1000, "height": 540})
    page.goto(f"{demo}/insights.html?course={INSIGHTS_COURSE}")
    page.wait_for_selector("#chart[data-state=drawn]", timeout=10_000)

    started = page.locator("#chart .started text").all_text_contents()
    completed = page.locator("#chart .completed text").all_text_contents()
    dropped = page.locator("#chart .dropoff text").all_text_contents()
    assert started == ["6", "5", "3", "2", "2"]
    assert completed == ["5", "3", "2", "2", "2"]
    # Inactive 14 days or more: fay stopped at knead, dee at proof, cy at the quiz.
    assert dropped == ["1", "1", "1", "0", "0"]
    assert "6 started · 2 completed" in page.locator("#learners").inner_text()
    assert "chart-" not in page.content(), "no learner id on the page"
    shoot(page, "insights-chart")


def test_the_demo_insights_route_names_a_bad_course_and_passes_the_gateway_s_answer_on(
    demo: str,
) -> None:
    missing = httpx.get(f"{demo}/insights/no-such-course", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "course_not_found"
    assert httpx.get(f"{demo}/insights/not a course", timeout=10).status_code == 422
    too_long = httpx.get(
        f"{demo}/insights/{INSIGHTS_COURSE}", params={"inactiveDays": 366}, timeout=10
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"][-1] == "inactiveDays"

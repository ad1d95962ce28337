"""Course insights on real processes: the gateway, the projector and the insights consumer.

A course is driven through the gateway (progress, quizzes, media, a claim, a reset); the
figures the gateway serves must equal the domain's recount over the stored snapshots, the
catalog and the certificates. A consumer killed mid-stream, and announcements delivered
again, late and out of order, must leave them equal too: each change counts once.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from chaos.known_cases import insight_requests
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.embedded import EmbeddedServer, free_port
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.topics import CHANGES_TOPIC
from shared.domain.insights import contribution, course_insights, total
from shared.domain.wire import message_key
from shared.service_layer.changes import SnapshotChange
from tests.e2e.test_operations_cli import cli, erase
from tests.e2e.xapi_support import user_token
from tests.support.services import (
    PRIVATE_GROUP_TIMING,
    TEST_API_KEY,
    Stack,
    eventually,
    metrics_text,
    service_process,
)

pytestmark = pytest.mark.e2e

START = datetime.now(UTC) - timedelta(days=30)


def when(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def insights_process(settings: Settings, logs: Path, group: str) -> EmbeddedServer:
    """An insights consumer of `group` on the session's broker and database."""
    own = settings.model_copy(
        update={
            "insights_port": free_port(),
            "insights_group": group,
            # A killed member's partitions move after its session: 6 s, not the default 10.
            **PRIVATE_GROUP_TIMING,
            # Room for every course of the session's database in the course gauges, soon.
            "insights_metric_courses": 1000,
            "insights_metric_refresh_seconds": 0.5,
        }
    )
    return service_process(own, f"insights-{group}", "services.insights", own.insights_port, logs)


@pytest.fixture(scope="module")
def consumer(stack: Stack, workdir: Path) -> Iterator[EmbeddedServer]:
    process = insights_process(stack.settings, workdir / "logs", stack.settings.insights_group)
    process.start(timeout=90)
    yield process
    process.stop()


@pytest.fixture
def course_id(api: httpx.Client) -> str:
    course = f"course-{uuid.uuid4().hex[:8]}"
    definition = {
        "items": [
            {"contentId": f"{course}.lesson-1", "kind": "lesson"},
            {"contentId": f"{course}.quiz", "kind": "quiz"},
            {"contentId": f"{course}.video", "kind": "video"},
            {"contentId": f"{course}.extra", "kind": "lesson", "required": False},
        ]
    }
    assert api.put(f"/v1/catalog/courses/{course}", json=definition).status_code == 201
    return course


def send(api: httpx.Client, user: str, *events: tuple[str, int, dict[str, Any]]) -> str:
    """PUT the user's events; their write's consistency token."""
    body = {
        "events": [
            {
                "eventId": f"{user}-{event_type}-{minutes}",
                "occurredAt": when(minutes),
                "clientId": "web",
                "type": event_type,
                "payload": payload,
            }
            for event_type, minutes, payload in events
        ]
    }
    answer = api.put(f"/v1/users/{user}/progress", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["rejected"] == 0, answer.text
    return str(answer.json()["consistencyToken"])


def projected(api: httpx.Client, user: str, token: str) -> None:
    """Wait until the user's snapshot reflects the write of `token`.

    Until then a recount and the served figures may agree on too little (both zero while
    the projector has not caught up), so a comparison proves nothing.
    """
    read = api.get(f"/v1/users/{user}/progress", params={"waitFor": token, "waitMs": 10_000})
    assert read.headers.get("Progress-Consistent") == "true", (user, read.text)


def drive(api: httpx.Client, course: str, prefix: str) -> list[str]:
    """Four learners through the course: a completer, a quiz failer, a viewer, a reset.

    Returns once each learner's last write is in their snapshot.
    """
    done, failer, viewer, reset = (f"{prefix}-{n}" for n in range(4))
    tokens: dict[str, str] = {}
    tokens[done] = send(
        api,
        done,
        ("content.progressed", 0, {"contentId": f"{course}.lesson-1", "status": "completed"}),
        (
            "quiz.attempted",
            5,
            {"contentId": f"{course}.quiz", "score": 4, "maxScore": 10, "passed": False},
        ),
        (
            "quiz.attempted",
            9,
            {"contentId": f"{course}.quiz", "score": 9, "maxScore": 10, "passed": True},
        ),
        (
            "media.progressed",
            20,
            {
                "contentId": f"{course}.video",
                "positionSeconds": 300,
                "durationSeconds": 300,
                "watchedSeconds": 300,
            },
        ),
        ("course.completed", 21, {"courseId": course}),
    )
    tokens[failer] = send(
        api,
        failer,
        ("content.progressed", 0, {"contentId": f"{course}.lesson-1", "status": "completed"}),
        (
            "quiz.attempted",
            3,
            {"contentId": f"{course}.quiz", "score": 2, "maxScore": 10, "passed": False},
        ),
    )
    tokens[viewer] = send(
        api,
        viewer,
        (
            "media.progressed",
            1,
            {
                "contentId": f"{course}.video",
                "positionSeconds": 90,
                "durationSeconds": 300,
                "watchedSeconds": 90,
            },
        ),
    )
    tokens[reset] = send(
        api,
        reset,
        ("content.progressed", 0, {"contentId": f"{course}.lesson-1", "status": "in_progress"}),
    )
    erased = api.delete(f"/v1/users/{reset}/progress")
    assert erased.status_code == 202
    tokens[reset] = erased.json()["consistencyToken"]
    for user, token in tokens.items():
        projected(api, user, token)
    return [done, failer, viewer, reset]


def recount(settings: Settings, course_id: str, users: list[str]) -> dict[str, Any]:
    """The domain's recount over the stored snapshots, shaped as the route shapes it."""

    async def counted() -> dict[str, Any]:
        client = mongo_client(settings)
        try:
            db = client[settings.mongo_database]
            course = await MongoCatalogStore(db).get("demo", course_id)
            assert course is not None
            stored = await MongoSnapshotStore(db).load_many([("demo", u) for u in users])
            certificates = MongoCertificateStore(db)
            parts = [
                contribution(
                    course,
                    snapshot.snapshot,
                    (await certificates.of_user("demo", user)).get(course_id),
                )
                for (_, user), snapshot in stored.items()
            ]
            today = datetime.now(UTC).date()
            figures = course_insights(course, total(parts), 14, today)
            return {
                "started": figures.started,
                "completed": figures.completed,
                "certified": figures.certified,
                "items": [
                    (i.content_id, i.started, i.completed, i.passed, i.drop_off, i.quiz, i.media)
                    for i in figures.items
                ],
                "median": figures.median_seconds_to_complete,
            }
        finally:
            await client.close()

    return asyncio.run(counted())


def served(api: httpx.Client, course_id: str) -> dict[str, Any]:
    body = api.get(f"/v1/courses/{course_id}/insights").json()
    learners = body["learners"]
    return {
        **learners,
        "items": [
            (
                i["contentId"],
                i["started"],
                i["completed"],
                i["passed"],
                i["dropOff"],
                i.get("quiz"),
                i.get("media"),
            )
            for i in body["items"]
        ],
        "median": body.get("medianSecondsToComplete"),
    }


def settled(
    api: httpx.Client, stack: Stack, course_id: str, users: list[str], bound: float = 20
) -> dict[str, Any]:
    """The served figures once they equal the recount (they must, within `bound` seconds)."""

    def equal() -> dict[str, Any] | None:
        shown = served(api, course_id)
        return shown if shown == recount(stack.settings, course_id, users) else None

    return eventually(equal, timeout=bound, interval=0.3)


def test_a_course_driven_through_the_gateway_shows_what_a_recount_finds(
    stack: Stack, api: httpx.Client, consumer: EmbeddedServer, course_id: str
) -> None:
    users = drive(api, course_id, f"learner-{uuid.uuid4().hex[:8]}")
    shown = settled(api, stack, course_id, users)

    assert (shown["started"], shown["completed"], shown["certified"]) == (3, 1, 1)
    lesson, quiz, video, extra = shown["items"]
    # (started, completed, passed, dropOff): the failer stopped at the quiz, the viewer at
    # the video, both a month ago; the reset learner counts nowhere.
    assert lesson[1:5] == (2, 2, 0, 0)
    assert quiz[1:5] == (2, 1, 1, 1)
    assert video[1:5] == (2, 1, 0, 1)
    assert extra[1:5] == (0, 0, 0, 0)
    assert quiz[5] == {"attempts": 3, "passRate": 0.5, "meanBestScore": 5.5}
    assert video[6] == {"meanWatchedSeconds": 195.0, "completionRate": 0.5}
    assert shown["median"] == 1200.0  # first activity → last required item done: 20 min
    body = api.get(f"/v1/courses/{course_id}/insights", params={"inactiveDays": 365}).text
    assert not any(user in body for user in users)

    top = api.get("/v1/insights/content", params={"top": 100}).json()
    mine = {i["contentId"]: i for i in top["items"] if i["contentId"].startswith(course_id)}
    assert mine[f"{course_id}.lesson-1"]["started"] == 2

    def exported() -> dict[str, float] | None:
        families = text_string_to_metric_families(metrics_text(consumer))
        funnel = {
            sample.labels["state"]: sample.value
            for family in families
            for sample in family.samples
            if sample.name == "progress_insights_course_learners"
            and sample.labels["course"] == course_id
        }
        return funnel if funnel.get("started") == 3 else None

    assert eventually(exported, timeout=10, interval=0.3) == {
        "started": 3,
        "completed": 1,
        "certified": 1,
    }


def test_the_named_bad_reads_get_their_answers_naming_the_field(stack: Stack) -> None:
    learner = f"Bearer {user_token('u1')}"
    with httpx.Client(base_url=stack.gateway_url, timeout=10.0) as client:
        for case in insight_requests(f"Bearer {TEST_API_KEY}", learner):
            path, _, query = case.path.partition("?")
            params = dict(parse_qsl(query, keep_blank_values=True))
            answer = client.get(path, params=params, headers=case.headers)
            assert answer.status_code == case.expected, (case.name, answer.text)
            if case.expected == 400:
                named = "top" if "top" in params else "inactiveDays"
                assert answer.json()["error"]["field"] == named, case.name


def _metric(process: EmbeddedServer, line_start: str) -> float:
    lines = metrics_text(process).splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(line_start))


async def _announce_again(settings: Settings, users: list[str]) -> None:
    """Send each learner's announcement again, twice, newest cursor first (stale after)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers)
    await producer.start()
    try:
        for cursor in (9, 1, 0, 9):
            for user in reversed(users):
                change = SnapshotChange("demo", user, cursor)
                await producer.send_and_wait(
                    CHANGES_TOPIC, change.to_json(), key=message_key(*change.key)
                )
    finally:
        await producer.stop()


def test_a_killed_consumer_and_redelivered_changes_count_each_change_once(
    stack: Stack, api: httpx.Client, consumer: EmbeddedServer, course_id: str
) -> None:
    users = drive(api, course_id, f"killed-{uuid.uuid4().hex[:8]}")
    consumer.signal(signal.SIGKILL)
    consumer.stop()
    consumer.start(timeout=90)
    # The killed member holds its partitions until its session times out, then they move.
    settled(api, stack, course_id, users, bound=60)
    handled = _metric(consumer, 'progress_insights_changes_total{outcome="handled"}')
    changed = _metric(consumer, "progress_insights_learners_changed_total")

    asyncio.run(_announce_again(stack.settings, users))

    def caught_up() -> bool | None:
        now = _metric(consumer, 'progress_insights_changes_total{outcome="handled"}')
        return True if now >= handled + 4 * len(users) else None

    eventually(caught_up, timeout=20, interval=0.2)
    assert _metric(consumer, "progress_insights_learners_changed_total") == changed
    settled(api, stack, course_id, users)


def test_a_catalog_change_is_recounted_by_the_catalog_job_and_an_erase_leaves_the_counts(
    stack: Stack,
    api: httpx.Client,
    consumer: EmbeddedServer,
    course_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = drive(api, course_id, f"changed-{uuid.uuid4().hex[:8]}")
    settled(api, stack, course_id, users)
    without_video = {
        "items": [
            {"contentId": f"{course_id}.lesson-1", "kind": "lesson"},
            {"contentId": f"{course_id}.quiz", "kind": "quiz"},
        ]
    }
    assert api.put(f"/v1/catalog/courses/{course_id}", json=without_video).status_code == 200

    # The projector's catalog job recounts the course: no learner changes, no rebuild.
    shown = settled(api, stack, course_id, users)
    assert shown["started"] == 2  # the viewer had only watched the video
    args = ("insights", "rebuild", "--tenant", "demo", "--course", course_id, "--json")
    rebuilt = cli(stack.settings, monkeypatch, *args)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert settled(api, stack, course_id, users) == shown, "the job left nothing to rebuild"

    done = users[0]
    assert erase(stack.settings, monkeypatch, done).exit_code == 0
    shown = settled(api, stack, course_id, users)
    assert (shown["started"], shown["completed"], shown["certified"]) == (1, 0, 0)

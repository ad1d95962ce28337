"""`progressctl dlq` against the real database and broker: listing, replay, purge, exit codes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner, Result

from services.progressctl.cli import app
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.embedded import free_port
from shared.adapters.mongo import DEAD_LETTERS, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import create_topics
from shared.adapters.topics import EVENTS_TOPIC
from shared.service_layer.dead_letter_records import DeadLetter
from shared.service_layer.deliveries import Attempt
from tests.support.backends import Backend
from tests.support.retry_stack import Message, _read, progressed
from tests.support.services import SHARED_DATABASE_TIMEOUT_MS, service_env, settings_for

pytestmark = pytest.mark.integration


@dataclass
class Letters:
    settings: Settings
    env: dict[str, str]
    ids: dict[str, str]  # name -> letter id
    messages: dict[str, Message]


def letter_for(name: str, message: Message, tenant: str, offset: int) -> DeadLetter:
    user = message.key.decode().split("/")[1] if message.key else None
    return DeadLetter(
        reason="retries_exhausted",
        raw=message.value,
        key=message.key,
        attempts=[
            Attempt(n, f"boom {n}", datetime(2026, 11, 20, 10, n, tzinfo=UTC)) for n in (1, 2)
        ],
        original_topic=EVENTS_TOPIC,
        original_partition=0,
        original_offset=offset,
        request_id=message.headers["request-id"],
        tenant_id=tenant,
        user_id=user,
        event_id=name,
        event_type="content.progressed",
    )


async def seed(settings: Settings, letters: list[DeadLetter]) -> list[str]:
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        await ensure_indexes(db)
        store = MongoDeadLetterStore(db)
        return [await store.add(letter) for letter in letters]
    finally:
        await client.close()


@pytest.fixture
def letters(backend: Backend) -> Iterator[Letters]:
    settings = settings_for(
        backend.kafka_bootstrap,
        backend.mongo_url,
        f"dlq_cli_{uuid.uuid4().hex[:8]}",
        False,
        mongo_timeout_ms=SHARED_DATABASE_TIMEOUT_MS,
    )
    run = uuid.uuid4().hex[:6]
    messages = {
        name: progressed(f"{name}-{run}", f"user-{name}-{run}", f"lesson-{name}")
        for name in ("a", "b", "c")
    }
    tenants = {"a": "demo", "b": "demo", "c": "demo"}
    seeded = [
        letter_for(f"{name}-{run}", message, tenants[name], offset)
        for offset, (name, message) in enumerate(messages.items())
    ]
    asyncio.run(create_topics(settings))  # a replay publishes; alone, nothing made them yet
    ids = dict(zip(messages, asyncio.run(seed(settings, seeded)), strict=True))
    env = {**service_env(settings), "PROGRESS_LOG_LEVEL": "WARNING", "COLUMNS": "250"}
    yield Letters(settings, env, ids, messages)
    client: MongoClient[dict[str, object]]
    with MongoClient(settings.mongo_url) as client:
        client.drop_database(settings.mongo_database)


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, ["dlq", *args], env=env)


def listed(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    result = cli(env, "list", "--json", *args)
    assert result.exit_code == 0, result.output
    items: list[dict[str, object]] = json.loads(result.stdout)
    return items


def test_list_filters_and_shows_state(letters: Letters) -> None:
    env, ids = letters.env, letters.ids
    assert {item["id"] for item in listed(env)} == set(ids.values())
    assert listed(env, "--tenant", "nobody") == []
    assert listed(env, "--type", "quiz.attempted") == []
    assert len(listed(env, "--type", "content.progressed", "--tenant", "demo")) == 3
    client: MongoClient[dict[str, object]]
    with MongoClient(letters.settings.mongo_url, tz_aware=True) as client:
        client[letters.settings.mongo_database][DEAD_LETTERS].update_one(
            {"_id": ids["a"]}, {"$set": {"failedAt": datetime.now(UTC) - timedelta(days=3)}}
        )
    assert {item["id"] for item in listed(env, "--since", "2d")} == {ids["b"], ids["c"]}
    since = (datetime.now(UTC) - timedelta(days=4)).isoformat()
    assert len(listed(env, "--since", since)) == 3
    item = next(i for i in listed(env) if i["id"] == ids["b"])
    assert item["state"] == "pending"
    assert item["attempts"] == [
        {"attempt": 1, "error": "boom 1", "at": "2026-11-20T10:01:00+00:00"},
        {"attempt": 2, "error": "boom 2", "at": "2026-11-20T10:02:00+00:00"},
    ]
    table = cli(env, "list")
    assert table.exit_code == 0
    assert ids["a"] in table.stdout
    assert "pending" in table.stdout
    assert cli(env, "list", "--since", "last tuesday").exit_code == 2


def test_show_prints_the_whole_letter_and_says_when_it_is_missing(letters: Letters) -> None:
    shown = cli(letters.env, "show", letters.ids["a"], "--json")
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["raw"] == letters.messages["a"].value.decode()
    assert body["key"] == letters.messages["a"].key.decode()  # type: ignore[union-attr]
    assert body["requestId"] == letters.messages["a"].headers["request-id"]
    assert [a["error"] for a in body["attempts"]] == ["boom 1", "boom 2"]
    human = cli(letters.env, "show", letters.ids["a"])
    assert human.exit_code == 0
    assert "boom 2" in human.stdout
    assert cli(letters.env, "show", "no-such-letter").exit_code == 1


def test_replay_publishes_with_the_original_key_and_headers_and_marks_replayed(
    letters: Letters,
) -> None:
    env, ids = letters.env, letters.ids
    before = len(asyncio.run(_read(letters.settings, EVENTS_TOPIC)))
    one = cli(env, "replay", ids["a"], "--json")
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout) == {"replayed": [ids["a"]]}
    rest = cli(env, "replay", "--all", "--tenant", "demo", "--json")
    assert rest.exit_code == 0, rest.output
    assert sorted(json.loads(rest.stdout)["replayed"]) == sorted([ids["b"], ids["c"]])
    assert cli(env, "replay", "--all").exit_code == 1  # nothing pending any more
    again = cli(env, "replay", ids["a"])  # an explicit replay of a replayed letter
    assert again.exit_code == 0, again.output

    published = asyncio.run(_read(letters.settings, EVENTS_TOPIC))
    values = {message.value for message in letters.messages.values()}
    replayed = [m for m in published if m.value in values]
    assert len(published) - before >= len(replayed) == 4
    for message in replayed:
        original = next(m for m in letters.messages.values() if m.value == message.value)
        assert message.key == original.key
        # content-type, schema-version, request-id (FastStream adds its correlation_id)
        assert original.headers.items() <= message.headers.items()
    states = {item["id"]: (item["state"], item["replays"]) for item in listed(env)}
    assert states == {
        ids["a"]: ("replayed", 2),
        ids["b"]: ("replayed", 1),
        ids["c"]: ("replayed", 1),
    }
    assert "replayed x2" in cli(env, "list").stdout


def test_purge_removes_letters_and_all_needs_a_scope_and_yes(letters: Letters) -> None:
    env, ids = letters.env, letters.ids
    other = letter_for("other", letters.messages["a"], "acme", 99)
    (other_id,) = asyncio.run(seed(letters.settings, [other]))
    assert cli(env, "purge", ids["a"]).exit_code == 0
    assert cli(env, "purge", ids["a"]).exit_code == 1
    for unscoped in (["--all"], ["--all", "--yes"], ["--all", "--tenant", "demo"]):
        refused = cli(env, "purge", *unscoped)
        assert refused.exit_code == 2, refused.output
    both = cli(env, "purge", "--all", "--tenant", "demo", "--all-tenants", "--yes")
    assert both.exit_code == 2
    assert "--all-tenants" in cli(env, "purge", "--all", "--yes").output
    assert len(listed(env)) == 3
    purged = cli(env, "purge", "--all", "--tenant", "demo", "--yes", "--json")
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.stdout) == {"purged": 2}
    assert [item["id"] for item in listed(env)] == [other_id]
    assert cli(env, "purge", "--all", "--tenant", "demo", "--yes").exit_code == 1
    everyone = cli(env, "purge", "--all", "--all-tenants", "--yes", "--json")
    assert everyone.exit_code == 0, everyone.output
    assert json.loads(everyone.stdout) == {"purged": 1}
    assert listed(env) == []


def test_usage_errors_exit_2(letters: Letters) -> None:
    env, ids = letters.env, letters.ids
    assert cli(env, "replay").exit_code == 2
    assert cli(env, "replay", ids["a"], "--all").exit_code == 2
    assert cli(env, "replay", ids["a"], "--tenant", "demo").exit_code == 2
    assert cli(env, "purge").exit_code == 2
    assert cli(env, "purge", ids["a"], "--tenant", "demo").exit_code == 2
    assert cli(env, "purge", ids["a"], "--all-tenants").exit_code == 2
    assert cli(env, "show").exit_code == 2


def test_unreachable_database_or_broker_exits_3_and_changes_nothing(letters: Letters) -> None:
    no_mongo = {
        **letters.env,
        "PROGRESS_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}",
        "PROGRESS_MONGO_TIMEOUT_MS": "300",
    }
    assert cli(no_mongo, "list").exit_code == 3
    assert cli(no_mongo, "replay", "--all").exit_code == 3
    no_kafka = {
        **letters.env,
        "PROGRESS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "PROGRESS_KAFKA_REQUEST_TIMEOUT_MS": "1000",
    }
    assert cli(no_kafka, "replay", letters.ids["a"]).exit_code == 3
    assert {item["state"] for item in listed(letters.env)} == {"pending"}

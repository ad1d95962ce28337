"""`progressctl catalog …` on the real database (a fresh one per test)."""

from __future__ import annotations

import asyncio
import json
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner, Result

from services.progressctl.cli import app
from services.projector.catalog_worker import catalog_job_runner
from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.mongo import ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tenants import mongo_tenants
from shared.domain import Certificate
from shared.service_layer.catalog import CourseCatalog
from shared.service_layer.stored_snapshots import SnapshotUpdate
from tests.fakes import FixedClock
from tests.unit.domain.builders import Log, at

pytestmark = pytest.mark.integration

TENANT = "demo"
USER = "u1"


@dataclass
class Cli:
    """`progressctl` pointed at one database of the session's MongoDB, with tenant `demo`."""

    settings: Settings
    runner: CliRunner
    folder: Path

    def __call__(self, *args: str) -> Result:
        environment = {
            "PROGRESS_MONGO_URL": self.settings.mongo_url,
            "PROGRESS_MONGO_DATABASE": self.settings.mongo_database,
            "PROGRESS_BOOTSTRAP_TENANT": TENANT,
        }
        return self.runner.invoke(app, list(args), env=environment)

    def file(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(textwrap.dedent(text).lstrip())
        return str(path)

    def jobs(self) -> list[tuple[str, str, int, int]]:
        """`catalog jobs --json` as (jobId, state, done, total), sorted."""
        result = self("catalog", "jobs", "--json")
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout)
        return sorted((j["jobId"], j["state"], j["done"], j["total"]) for j in found)

    def listed(self) -> list[dict[str, Any]]:
        result = self("catalog", "list", "--json")
        assert result.exit_code == 0, result.output
        listed: list[dict[str, Any]] = json.loads(result.stdout)
        return listed

    def run(self, operation: Any) -> Any:
        async def connected() -> Any:
            client = mongo_client(self.settings)
            try:
                return await operation(client[self.settings.mongo_database])
            finally:
                await client.close()

        return asyncio.run(connected())


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Iterator[Cli]:
    scoped = settings.model_copy(update={"mongo_database": f"catalog_{uuid.uuid4().hex[:8]}"})
    runner = Cli(scoped, CliRunner(), tmp_path)

    async def prepare(db: Any) -> None:
        await ensure_indexes(db)
        await mongo_tenants(db).reset_credentials(TENANT, "catalog-key-0123456789", "s" * 40)

    runner.run(prepare)
    yield runner
    with MongoClient(settings.mongo_url) as client:
        client.drop_database(scoped.mongo_database)


async def run_jobs(db: Any) -> None:
    """Run every queued catalog job as a projector would."""
    runner = catalog_job_runner(db, Settings())
    while (job := await runner.take()) is not None:
        await runner.run(job)


TUTORIAL_YAML = """
    courses:
      - courseId: tut-1
        title: Intro to Python
        items:
          - {contentId: ch-1, kind: chapter, group: module-1}
          - {contentId: quiz-1, kind: quiz, group: module-1}
      - courseId: w4
        items:
          - contentId: w1d1
            kind: session
            group: 1
            day: 1
"""


def test_import_list_and_show(cli: Cli) -> None:
    result = cli("catalog", "import", cli.file("catalog.yaml", TUTORIAL_YAML))
    assert result.exit_code == 0, result.output
    assert (
        "course 'tut-1' created: 2 item(s); claims are judged by job demo/tut-1@1" in result.stdout
    )
    assert cli.listed() == [
        {"courseId": "tut-1", "title": "Intro to Python", "items": 2, "required": 2},
        {"courseId": "w4", "title": None, "items": 1, "required": 1},
    ]
    table = cli("catalog", "list")
    assert "tut-1" in table.stdout
    assert "Intro to Python" in table.stdout

    shown = cli("catalog", "show", "tut-1")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["items"][1] == {
        "contentId": "quiz-1",
        "kind": "quiz",
        "required": True,
        "group": "module-1",
    }
    again = cli(
        "catalog",
        "import",
        cli.file(
            "one.json", '{"courseId": "w4", "items": [{"contentId": "w1d2", "kind": "session"}]}'
        ),
    )
    assert "course 'w4' replaced" in again.stdout
    missing = cli("catalog", "show", "nope")
    assert missing.exit_code == 1
    assert "no course 'nope'" in missing.stderr


def test_yaml_errors_name_file_line_course_item_and_rule_and_store_nothing(cli: Cli) -> None:
    path = cli.file(
        "bad.yaml",
        """
        - courseId: tut-1
          items:
            - contentId: ch-1
              kind: chapter
            - contentId: ch-1
              kind: quiz
        - courseId: tut-2
          items:
            - contentId: "ch 2"
              kind: chapter
            - kind: chapter
        """,
    )
    result = cli("catalog", "import", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}:5: course 'tut-1', item 'ch-1' (items.1.contentId): contentId already "
        "listed as items.0; an item may appear once per course [rule: unique_item_ids]",
        f"error: {path}:9: course 'tut-2', item 'ch 2' (items.0.contentId): ID must be "
        "printable characters without whitespace [rule: id_format]",
        f"error: {path}:11: course 'tut-2', item '#2' (items.1.contentId): Field required "
        "[rule: missing]",
        "nothing imported: 3 problem(s)",
    ]
    assert cli.listed() == []


def test_json_errors_give_the_line_of_the_offending_value(cli: Cli) -> None:
    path = cli.file(
        "bad.json",
        """
        {
          "courses": [
            {"courseId": "a", "items": [{"contentId": "s1", "kind": "step"}]},
            {
              "courseId": "b",
              "items": [
                {"contentId": "s1", "kind": "step"},
                {"contentId": "s\\tx", "kind": "step"}
              ]
            },
            {"courseId": "a", "items": [{"contentId": "s1", "kind": "step"}]}
          ]
        }
        """,
    )
    result = cli("catalog", "import", path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {path}:8: course 'b', item 's\\tx' (items.1.contentId)")
    assert lines[0].endswith("[rule: id_format]")
    assert lines[1] == (
        f"error: {path}:11: course 'a' (courseId): courseId already defined at courses.0 "
        "[rule: unique_course_ids]"
    )
    broken = cli(
        "catalog", "import", cli.file("broken.json", '{"courses": [\n  {"courseId": }\n]}')
    )
    assert broken.exit_code == 2
    assert "broken.json:2: not valid JSON" in broken.stderr
    assert cli("catalog", "import", "--check", cli.file("ok.json", "[]")).exit_code == 2
    assert cli.listed() == []


def test_unknown_tenant_is_refused(cli: Cli) -> None:
    path = cli.file("catalog.yaml", TUTORIAL_YAML)
    result = cli("catalog", "import", "--tenant", "nobody", path)
    assert result.exit_code == 1
    assert "no tenant 'nobody'" in result.stderr
    assert cli("catalog", "import", "--tenant", "Bad Tenant", path).exit_code == 2
    checked = cli("catalog", "import", "--check", path)
    assert (checked.exit_code, checked.stdout.strip()) == (0, "2 course(s) valid")
    assert cli.listed() == []


def test_importing_records_earned_certificates_and_a_changed_course_keeps_them(cli: Cli) -> None:
    log = Log()
    log.add(
        "content.progressed", "2026-03-01T10:00:00Z", {"contentId": "ch-1", "status": "completed"}
    )
    quiz = {"contentId": "quiz-1", "score": 9, "maxScore": 10, "passed": True}
    log.add("quiz.attempted", "2026-03-01T10:10:00Z", quiz)
    log.add("course.completed", "2026-03-01T11:00:00Z", {"courseId": "tut-1"})
    snapshot = log.snapshot()
    update = SnapshotUpdate(key=(TENANT, USER), snapshot=snapshot, seq=3, expected_seq=0)

    async def store(db: Any) -> None:
        assert await MongoSnapshotStore(db).save_many([update]) == set()

    async def certificates(db: Any) -> dict[str, Certificate]:
        return await MongoCertificateStore(db).of_user(TENANT, USER)

    cli.run(store)
    path = cli.file("catalog.yaml", TUTORIAL_YAML)
    first = cli("catalog", "import", path)
    assert "course 'tut-1' created: 2 item(s); claims are judged by job" in first.stdout
    assert cli.run(certificates) == {}, "the import only stores the course and queues its job"
    assert cli.jobs() == [("demo/tut-1@1", "queued", 0, 0), ("demo/w4@1", "queued", 0, 0)]
    cli.run(run_jobs)
    assert cli.jobs() == [("demo/tut-1@1", "finished", 1, 1), ("demo/w4@1", "finished", 1, 1)]
    expected = {"tut-1": Certificate(TENANT, USER, "tut-1", at("2026-03-01T11:00:00Z"))}
    assert cli.run(certificates) == expected

    grown = TUTORIAL_YAML.replace(
        "          - {contentId: quiz-1, kind: quiz, group: module-1}\n",
        "          - {contentId: quiz-1, kind: quiz, group: module-1}\n"
        "          - {contentId: ch-2, kind: chapter, group: module-2}\n",
    )
    second = cli("catalog", "import", cli.file("grown.yaml", grown))
    assert "course 'tut-1' replaced: 3 item(s); claims are judged by job demo/tut-1@2" in (
        second.stdout
    )
    cli.run(run_jobs)
    assert cli.run(certificates) == expected
    table = cli("catalog", "jobs")
    assert table.exit_code == 0, table.output
    assert "demo/tut-1@2" in table.stdout
    assert "finished" in table.stdout
    watched = cli("catalog", "jobs", "--watch", "--json")
    assert watched.exit_code == 0, watched.output
    assert {job["state"] for job in json.loads(watched.stdout)} == {"finished"}

    async def remove_w4(db: Any) -> None:
        catalog = CourseCatalog(
            MongoCatalogStore(db), MongoCertificateStore(db), MongoCatalogJobStore(db), FixedClock()
        )
        assert await catalog.remove(TENANT, "w4") is not None

    cli.run(remove_w4)
    listed = json.loads(cli("catalog", "jobs", "--json").stdout)
    removals = [(job["jobId"], job["state"]) for job in listed if job["change"] == "removed"]
    assert removals == [("demo/w4@3", "queued")]
    cli.run(run_jobs)
    assert ("demo/w4@3", "finished", 1, 1) in cli.jobs()
    assert "(removal)" in cli("catalog", "jobs").stdout

"""Contracts of the dead-letter, catalog, erasure and rebuild-checkpoint stores, real and fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain import Certificate, parse_course, reduce
from shared.service_layer.catalog_job_records import CourseChange, JobState
from shared.service_layer.dead_letter_records import PENDING, REPLAYED, DeadLetter, LetterFilter
from shared.service_layer.deliveries import Attempt
from shared.service_layer.stored_snapshots import SnapshotUpdate
from shared.service_layer.xapi.ports import Attachment, Usage
from tests.contract.conftest import Stores
from tests.contract.test_event_log_and_snapshots import entry
from tests.contract.test_parked_messages import parked
from tests.contract.test_xapi_stores import (
    AGENT_PROFILE_KEY,
    STATE_KEY,
    state_document,
    statement_record,
)

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _next_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def letter(
    offset: int, tenant: str = "demo", event_type: str | None = "quiz.attempted"
) -> DeadLetter:
    return DeadLetter(
        reason="retries_exhausted",
        raw=f'{{"n": {offset}}}'.encode(),
        key=b"demo/u1",
        attempts=[Attempt(1, "boom", AT)],
        original_topic="progress.events",
        original_partition=0,
        original_offset=offset,
        tenant_id=tenant,
        user_id="u1",
        event_id=f"e-{offset}",
        event_type=event_type,
    )


async def test_a_letter_is_stored_once_and_read_back_whole(stores: Stores) -> None:
    first = await stores.letters.add(letter(1))
    assert await stores.letters.add(letter(1)) == first
    stored = await stores.letters.get(first)
    assert stored is not None
    assert stored.letter == letter(1)
    assert stored.state == PENDING
    assert stored.replays == 0
    assert await stores.letters.get("no-such-letter") is None


async def test_letters_are_selected_by_tenant_type_state_and_time(stores: Stores) -> None:
    ids = [await stores.letters.add(letter(n, tenant=t)) for n, t in ((1, "a"), (2, "b"), (3, "a"))]
    await stores.letters.add(letter(4, event_type=None))
    assert await stores.letters.count() == 4
    assert await stores.letters.count(LetterFilter(tenant_id="a")) == 2
    assert await stores.letters.count(LetterFilter(event_type="quiz.attempted")) == 3
    assert await stores.letters.mark_replayed(ids[0]) is True
    assert await stores.letters.mark_replayed("no-such-letter") is False
    replayed = await stores.letters.find(LetterFilter(state=REPLAYED))
    assert [(s.letter_id, s.replays) for s in replayed] == [(ids[0], 1)]
    assert replayed[0].replayed_at is not None
    future = datetime.now(UTC) + timedelta(days=3650)
    assert await stores.letters.find(LetterFilter(since=future)) == []
    assert len(await stores.letters.find(LetterFilter(), limit=2)) == 2


async def test_purging_deletes_what_it_names_and_counts_it(stores: Stores) -> None:
    ids = [await stores.letters.add(letter(n, tenant=t)) for n, t in ((1, "a"), (2, "b"), (3, "a"))]
    assert await stores.letters.delete([ids[1], "no-such-letter"]) == 1
    assert await stores.letters.delete_matching(LetterFilter(tenant_id="a")) == 2
    assert await stores.letters.count() == 0


async def test_courses_are_replaced_whole_and_listed_in_course_order(stores: Stores) -> None:
    course = parse_course({"courseId": "c.2", "items": [{"contentId": "x", "kind": "step"}]})
    other = parse_course(
        {
            "courseId": "c.1",
            "items": [
                {"contentId": "y", "kind": "quiz", "required": False},
                {"contentId": "z", "kind": "step"},
            ],
        }
    )
    assert await stores.courses.put("demo", course) == (1, True)
    assert await stores.courses.kept("demo", ["c.2"]) == {}
    grown = parse_course(
        {
            "courseId": "c.2",
            "items": [*course.to_json()["items"], {"contentId": "w", "kind": "step"}],
        }
    )
    assert await stores.courses.put("demo", grown) == (2, False)
    assert await stores.courses.put("demo", course) == (3, False)
    assert await stores.courses.kept("demo", ["c.2", "c.1"]) == {"c.2": [course, grown]}
    await stores.courses.drop_kept("demo", "c.2", 2)
    assert await stores.courses.kept("demo", ["c.2"]) == {"c.2": [grown]}
    await stores.courses.drop_kept("demo", "c.2", 3)
    assert await stores.courses.kept("demo", ["c.2"]) == {}
    await stores.courses.put("demo", other)
    await stores.courses.put("elsewhere", other)
    assert await stores.courses.get("demo", "c.2") == course
    assert await stores.courses.get("demo", "nope") is None
    assert [c.course_id for c in await stores.courses.page("demo", None, 10)] == ["c.1", "c.2"]
    assert [c.course_id for c in await stores.courses.page("demo", "c.1", 10)] == ["c.2"]
    touching = await stores.courses.touching("demo", ["x"], ["c.1"])
    assert sorted(c.course_id for c in touching) == ["c.1", "c.2"]
    totals = await stores.courses.totals("demo")
    assert (totals.courses, totals.required) == (2, 2)
    assert await stores.courses.remove("demo", "c.2") == 4
    assert await stores.courses.remove("demo", "c.2") is None


async def test_a_removed_course_leaves_every_read_but_its_version_stays_kept_for_its_job(
    stores: Stores,
) -> None:
    course = parse_course({"courseId": "c", "items": [{"contentId": "x", "kind": "step"}]})
    assert await stores.courses.put("demo", course) == (1, True)

    assert await stores.courses.remove("demo", "c") == 2

    assert await stores.courses.get("demo", "c") is None
    assert await stores.courses.page("demo", None, 10) == []
    assert await stores.courses.touching("demo", ["x"], ["c"]) == []
    assert (await stores.courses.totals("demo")).courses == 0
    assert await stores.courses.kept("demo", ["c"]) == {"c": [course]}
    assert await stores.courses.remove("demo", "c") is None
    await stores.courses.drop_kept("demo", "c", 2)
    assert await stores.courses.kept("demo", ["c"]) == {}
    assert await stores.courses.put("demo", course) == (3, True), "revisions go on after it"
    assert await stores.courses.get("demo", "c") == course


async def test_erasing_a_user_removes_them_everywhere_and_no_one_else(stores: Stores) -> None:
    await stores.events.append([entry(1, "a"), entry(3, "b"), entry(1, "x", user="u2")])
    await stores.events.fill({("demo", "u1"): [2]})
    assert await stores.events.visible_head(("demo", "u1"), 3) == 3
    for user in ("u1", "u2"):
        key = ("demo", user)
        snapshot = reduce([entry(1, "a", user=user).event], tenant_id="demo", user_id=user)
        await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 1, 0)])
    await stores.letters.add(letter(1))
    await stores.certificates.record([Certificate("demo", "u1", "c", AT)])
    waiting = [parked("demo/u1", 1), parked("demo/u1", 2), parked("demo/u2", 3)]
    await stores.parked.park(waiting)

    await stores.checkpoints.save("run", ("demo", "u1"), done=False, started=AT)
    await stores.written.put("w-1", ("demo", "u1"), ["a", "b"], _next_hour())
    await stores.merges.point("demo", "guest-1", "u1")
    await stores.merges.point("demo", "u1", "elsewhere")
    await stores.merges.point("demo", "guest-2", "u2")
    await stores.merges.advance("demo", "guest-3", "u1", 5)
    await stores.statements.insert("demo", [statement_record("u1"), statement_record("u2")])
    await stores.statements.put_attachments(
        "demo", "u1", [Attachment("ab" * 32, "text/plain", b"x")]
    )
    await stores.state.put("demo", STATE_KEY, "u1", state_document(b"{}"), None)
    await stores.profiles.put("demo", AGENT_PROFILE_KEY, "u1", state_document(b"{}"), None)
    await stores.usage.add("demo", "user:u1", "u1", Usage(statements=1))
    await stores.usage.add("demo", "user:u2", "u2", Usage(statements=1))
    job = await stores.catalog_jobs.enqueue(CourseChange("demo", "c", 2), AT)
    assert await stores.catalog_jobs.take("w", AT, timedelta(seconds=60)) is not None
    later = AT + timedelta(seconds=70)
    assert await stores.catalog_jobs.checkpoint(
        job, "w", last_user="u1", done=1, total=2, lease_until=later
    )
    deleted = await stores.user_data.erase("demo", "u1")
    await stores.user_data.audit("erase", "demo", deleted)

    assert deleted == {
        "events": 3,  # two events and a filler: it holds the user id too
        "log_heads": 1,
        "snapshots": 1,
        "dead_letters": 1,
        "certificates": 1,
        "snapshot_checkpoints": 0,
        "consistency_writes": 1,
        "merges": 3,
        "parked_messages": 2,
        "rebuild_runs": 1,
        "xapi_statements": 1,
        "xapi_usage": 1,
        "xapi_attachments": 1,
        "xapi_state": 1,
        "xapi_profiles": 1,
        "catalog_jobs": 1,
        "insight_contributions": 0,
    }
    [after_erase] = await stores.catalog_jobs.recent("demo", 5)
    assert (after_erase.last_user, after_erase.done) == (None, 0)
    assert await stores.merges.target("demo", "guest-1") is None
    assert await stores.merges.target("demo", "guest-2") == "u2"
    assert await stores.merges.moved_through("demo", "guest-3", "u1") == 0
    assert await stores.written.get("w-1") is None
    assert await stores.checkpoints.last_done("run") is None
    assert await stores.events.users("demo", None) == [("demo", "u2")]
    assert list(await stores.snapshots.load_many([("demo", "u1"), ("demo", "u2")])) == [
        ("demo", "u2")
    ]
    assert await stores.letters.count() == 0
    assert await stores.certificates.of_user("demo", "u1") == {}
    assert await stores.parked.all() == [waiting[2]]
    assert await stores.user_data.erase("demo", "u1") == dict.fromkeys(deleted, 0)


async def test_a_rebuild_checkpoint_resumes_only_an_unfinished_run(stores: Stores) -> None:
    assert await stores.checkpoints.last_done("run") is None
    await stores.checkpoints.save("run", ("demo", "u5"), done=False, started=AT)
    assert await stores.checkpoints.last_done("run") == ("demo", "u5")
    await stores.checkpoints.save("run", ("demo", "u9"), done=True, started=AT)
    assert await stores.checkpoints.last_done("run") is None


async def test_an_import_checkpoint_counts_the_finished_lines_of_its_run(stores: Stores) -> None:
    assert await stores.imports.lines_done("demo:abc") == 0
    await stores.imports.save("demo:abc", 3, at=AT)
    await stores.imports.save("demo:abc", 7, at=AT)
    assert await stores.imports.lines_done("demo:abc") == 7
    assert await stores.imports.lines_done("other:abc") == 0


async def test_tombstones_remember_erased_users_until_reenabled(stores: Stores) -> None:
    assert await stores.tombstones.erased([("demo", "u1")]) == set()
    await stores.tombstones.bury("demo", "u1")
    await stores.tombstones.bury("demo", "u1")
    assert await stores.tombstones.erased([("demo", "u1"), ("demo", "u2"), ("x", "u1")]) == {
        ("demo", "u1")
    }
    assert await stores.tombstones.exhume("demo", "u1") is True
    assert await stores.tombstones.exhume("demo", "u1") is False
    assert await stores.tombstones.erased([("demo", "u1")]) == set()


async def test_an_erasures_second_sweep_is_recorded_by_its_first_run_until_done(
    stores: Stores,
) -> None:
    due = AT + timedelta(seconds=15)
    assert await stores.tombstones.second_sweep_due("demo", "u1", due) is None, "not buried"
    await stores.tombstones.bury("demo", "u1")
    assert await stores.tombstones.second_sweep_due("demo", "u1", due) == due
    later = due + timedelta(hours=1)
    assert await stores.tombstones.second_sweep_due("demo", "u1", later) == due, "a re-run"
    await stores.tombstones.second_sweep_done("demo", "u1")
    assert await stores.tombstones.second_sweep_due("demo", "u1", later) is None
    assert await stores.tombstones.erased([("demo", "u1")]) == {("demo", "u1")}


async def test_large_writes_are_kept_under_their_reference_until_their_tokens_expire(
    stores: Stores,
) -> None:
    await stores.written.put("w-1", ("demo", "u1"), ["a", "b"], _next_hour())
    await stores.written.put(
        "w-old", ("demo", "u1"), ["c"], datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await stores.written.get("w-1") == (("demo", "u1"), ["a", "b"])
    assert await stores.written.get("w-2") is None
    assert await stores.written.get("w-old") is None


async def test_merge_pointers_keep_the_latest_account(stores: Stores) -> None:
    assert await stores.merges.target("demo", "guest") is None
    await stores.merges.point("demo", "guest", "a")
    await stores.merges.point("demo", "guest", "b")
    assert await stores.merges.target("demo", "guest") == "b"
    assert await stores.merges.target("other", "guest") is None


async def test_a_paged_merge_keeps_how_far_it_moved_per_account(stores: Stores) -> None:
    assert await stores.merges.moved_through("demo", "guest", "a") == 0
    await stores.merges.advance("demo", "guest", "a", 500)
    assert await stores.merges.target("demo", "guest") is None  # not merged until done
    await stores.merges.advance("demo", "guest", "a", 1000)
    await stores.merges.point("demo", "guest", "a")
    assert await stores.merges.moved_through("demo", "guest", "a") == 1000
    assert await stores.merges.target("demo", "guest") == "a"
    assert await stores.merges.moved_through("demo", "guest", "b") == 0
    await stores.merges.advance("demo", "guest", "b", 3)
    assert await stores.merges.moved_through("demo", "guest", "a") == 0
    assert await stores.merges.target("demo", "guest") == "a"


async def test_dead_letters_tell_whether_they_hold_an_event_of_a_user(stores: Stores) -> None:
    await stores.letters.add(letter(7))
    assert await stores.letters.holds(("demo", "u1"), ["x", "e-7"]) is True
    assert await stores.letters.holds(("demo", "u1"), ["e-8"]) is False
    assert await stores.letters.holds(("demo", "u2"), ["e-7"]) is False


async def test_catalog_jobs_are_leased_checkpointed_superseded_and_ended(stores: Stores) -> None:
    jobs, lease = stores.catalog_jobs, timedelta(seconds=60)
    first = await jobs.enqueue(CourseChange("demo", "c", 1), AT)
    assert (first.job_id, first.state, first.done) == ("demo/c@1", JobState.QUEUED, 0)
    taken = await jobs.take("w1", AT, lease)
    assert taken is not None
    assert (taken.job_id, taken.state, taken.attempts) == ("demo/c@1", JobState.RUNNING, 1)
    assert await jobs.take("w2", AT + timedelta(seconds=59), lease) is None
    assert await jobs.checkpoint(
        taken, "w1", last_user="u1", done=1, total=3, lease_until=AT + timedelta(seconds=90)
    )
    assert await jobs.take("w2", AT + timedelta(seconds=61), lease) is None
    resumed = await jobs.take("w2", AT + timedelta(seconds=91), lease)
    assert resumed is not None
    assert (resumed.last_user, resumed.done, resumed.total, resumed.attempts) == ("u1", 1, 3, 2)
    assert resumed.started_at == AT
    assert not await jobs.checkpoint(
        taken, "w1", last_user="u2", done=2, total=3, lease_until=AT + lease
    ), "the first worker lost its lease"

    second = await jobs.enqueue(CourseChange("demo", "c", 2), AT + timedelta(seconds=100))
    assert not await jobs.end(resumed, "w2", JobState.FINISHED), "superseded by the second"
    states = {job.job_id: job.state for job in await jobs.recent("demo", 5)}
    assert states == {"demo/c@1": JobState.SUPERSEDED, "demo/c@2": JobState.QUEUED}
    latest = await jobs.take("w1", AT + timedelta(seconds=100), lease)
    assert latest is not None
    assert latest.job_id == second.job_id
    await jobs.release(latest, "w1")
    again = await jobs.take("w2", AT + timedelta(seconds=100), lease)
    assert again is not None
    assert again.job_id == second.job_id, "a released job is taken again at once"
    assert await jobs.end(again, "w2", JobState.FAILED, "boom")
    [ended, _] = await jobs.recent(None, 5)
    assert (ended.state, ended.error) == (JobState.FAILED, "boom")
    assert await jobs.take("w1", AT + timedelta(days=1), lease) is None
    assert await jobs.recent("elsewhere", 5) == []
    removal = await jobs.enqueue(CourseChange("demo", "c", 3, removed=True), AT + timedelta(days=1))
    [stored, *_] = await jobs.recent("demo", 5)
    assert (stored.job_id, stored.change) == (removal.job_id, CourseChange("demo", "c", 3, True))

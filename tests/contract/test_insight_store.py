"""The insight store's contract, against the fake and MongoDB: sums equal the stored
contributions, whatever order, repeats or stale reads the replacements come in."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.service_layer.ports import CourseFunnel, LearnerContributions
from tests.contract.conftest import Stores

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
COURSE = "course.$1"


def learner(user: str, cursor: int | None, **scopes: dict[str, float]) -> LearnerContributions:
    return LearnerContributions("demo", user, cursor, {COURSE: scopes.get("course", {})})


async def test_sums_follow_replacements_and_a_repeat_adds_nothing(stores: Stores) -> None:
    insights = stores.insights
    first = learner("u1", 3, course={"started": 1, "started:a.b": 1, "media:$x": 12.5})
    assert await insights.replace([first, learner("u2", 1, course={"started": 1})], NOW) == 2
    assert await insights.replace([first], NOW) == 0
    moved = learner("u1", 5, course={"started": 1, "completed": 1, "media:$x": 20.0})
    assert await insights.replace([moved], NOW) == 1

    totals = await insights.totals("demo", COURSE)
    assert totals.counts == {"started": 2, "completed": 1, "media:$x": 20.0}
    assert totals.as_of == NOW
    assert (await insights.totals("other", COURSE)).counts == {}


async def test_a_stale_read_never_goes_back_not_even_after_a_reset(stores: Stores) -> None:
    insights = stores.insights
    await insights.replace([learner("u1", 4, course={"started": 1})], NOW)
    await insights.replace([learner("u1", 2, course={"started": 1, "completed": 1})], NOW)
    assert (await insights.totals("demo", COURSE)).counts == {"started": 1}

    await insights.replace([learner("u1", 6)], NOW)  # reset: counts nothing
    await insights.replace([learner("u1", 4, course={"started": 1})], NOW)
    assert (await insights.totals("demo", COURSE)).counts == {}


async def test_a_recount_of_one_scope_leaves_the_others(stores: Stores) -> None:
    insights = stores.insights
    both = LearnerContributions("demo", "u1", 3, {COURSE: {"started": 1}, "": {"started:a": 1}})
    await insights.replace([both], NOW)
    recount = LearnerContributions("demo", "u1", 3, {}, only=COURSE)
    await insights.replace([recount], NOW)
    assert (await insights.totals("demo", COURSE)).counts == {}
    assert (await insights.totals("demo", "")).counts == {"started:a": 1}


async def test_an_erased_learner_leaves_every_sum(stores: Stores) -> None:
    insights = stores.insights
    both = LearnerContributions("demo", "u1", 3, {COURSE: {"started": 1}, "": {"started:a": 1}})
    await insights.replace([both, learner("u2", 1, course={"started": 1})], NOW)

    deleted = await stores.user_data.erase("demo", "u1")

    assert deleted["insight_contributions"] == 2
    assert (await insights.totals("demo", COURSE)).counts == {"started": 1}
    assert (await insights.totals("demo", "")).counts == {}


def started_in(
    tenant: str, course: str, learners: int, completed: int = 0, certified: int = 0
) -> list[LearnerContributions]:
    """Contributions of `learners` learners to one course, the first ones completed/certified."""
    return [
        LearnerContributions(
            tenant,
            f"{course}-u{index}",
            1,
            {
                course: {
                    "started": 1,
                    "completed": int(index < completed),
                    "certified": int(index < certified),
                    f"started:{course}.item": 1,
                },
                "": {f"started:{course}.item": 1},
            },
        )
        for index in range(learners)
    ]


async def test_the_most_started_courses_across_tenants_with_their_funnels(stores: Stores) -> None:
    insights = stores.insights
    seeded = [
        *started_in("demo", "c.small", 1),
        *started_in("demo", "c.big", 4, completed=2, certified=1),
        *started_in("other", "c.big", 2, completed=2),
        *started_in("acme", "c.tie", 2),
    ]
    await insights.replace(seeded, NOW)

    top = await insights.most_started(3)

    assert top == [
        CourseFunnel("demo", "c.big", 4, 2, 1),
        CourseFunnel("acme", "c.tie", 2, 0, 0),
        CourseFunnel("other", "c.big", 2, 2, 0),
    ]
    assert [f.course_id for f in await insights.most_started(10)][-1] == "c.small"
    assert await insights.most_started(0) == []


async def test_a_course_whose_learners_all_left_is_no_longer_among_the_most_started(
    stores: Stores,
) -> None:
    insights = stores.insights
    await insights.replace(started_in("demo", "c.one", 2), NOW)
    await insights.replace([LearnerContributions("demo", "c.one-u0", 2, {"c.one": {}})], NOW)
    await insights.replace([LearnerContributions("demo", "c.one-u1", None)], NOW)

    assert await insights.most_started(5) == []

"""The insight store's contract, against the fake and MongoDB: sums equal the stored
contributions, whatever order, repeats or stale reads the replacements come in."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.service_layer.ports import LearnerContributions
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

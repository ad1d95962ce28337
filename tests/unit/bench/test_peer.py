"""The bench's Quix Streams peer: its fold gives the projector's snapshots, and its goals."""

from __future__ import annotations

from typing import Any

from bench.peer.folding import fold_message
from bench.peer.report import peer_goals, peer_lines
from bench.report import goals
from shared.adapters.mongo import user_key
from shared.domain import Snapshot
from tests.support.projector import learner_events, reductions, resent_and_shuffled


class DictState:
    """One user's Quix state, in memory (Quix's `State` has the same get and set)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def folded(values: list[bytes], users: list[str]) -> dict[str, list[dict[str, Any] | None]]:
    """Every message folded with its user's state, as Quix keys state by the message key."""
    states: dict[str, DictState] = {}
    documents: dict[str, list[dict[str, Any] | None]] = {}
    for value, user in zip(values, users, strict=True):
        state = states.setdefault(user, DictState())
        documents.setdefault(user, []).append(fold_message(value, state))
    return documents


def test_resent_shuffled_events_with_resets_end_in_the_reduction_of_each_users_log() -> None:
    events = learner_events(6, 40, seed=3, resets=True)
    sent = resent_and_shuffled(events, share=0.3, seed=4)

    documents = folded([e.to_json() for e in sent], [e.user_id for e in sent])

    wanted = reductions(events)
    last = {user: [d for d in docs if d is not None][-1] for user, docs in documents.items()}
    assert {user: Snapshot.from_storage(d["state"]) for user, d in last.items()} == wanted
    assert all(d["s"] == 40 for d in last.values())
    repeats = sum(d is None for docs in documents.values() for d in docs)
    assert repeats == len(sent) - len(events)


def test_a_repeat_writes_nothing_and_leaves_the_state_as_it_was() -> None:
    (event,) = learner_events(1, 1, seed=5)
    state = DictState()
    document = fold_message(event.to_json(), state)
    kept = dict(state.values)

    assert fold_message(event.to_json(), state) is None
    assert state.values == kept
    assert document is not None
    assert document["_id"] == user_key("demo", event.user_id)
    assert (document["t"], document["u"], document["s"], document["v"]) == (
        "demo",
        event.user_id,
        1,
        1,
    )
    assert document["q"][2] == len(document["state"])


def figures(rate: float, cpu: float | None) -> dict[str, Any]:
    return {
        "events_per_second": rate,
        "cpu_ms_per_event": cpu,
        "write_commands_per_event": 0.004,
        "db": {"server_ms": {"insert": 500.0, "update": 1500.0, "queries": 900.0}},
        "delivery": "at-least-once",
    }


def peer_section(projector: dict[str, Any], quix: dict[str, Any]) -> dict[str, Any]:
    return {
        "events": 20_000,
        "users": 1_000,
        "projector": projector,
        "quix": quix,
        "quix_exactly_once": quix,
    }


def peer_verdicts(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(g["goal"], g["verdict"], g["shown"]) for g in goals(results) if "peer" in g["goal"]]


def test_the_projector_is_judged_against_the_peer_on_events_per_second_and_cpu() -> None:
    ahead = peer_section(figures(2_000, 0.2), figures(1_000, 0.4))
    behind = peer_section(figures(500, 0.5), figures(1_000, 0.4))

    assert peer_verdicts({"peer": ahead}) == [
        ("projector events/s >= peer (Quix Streams, at-least-once)", "PASS", "2.00x"),
        (
            "projector CPU/event <= peer (Quix Streams, at-least-once)",
            "PASS",
            "0.50x the peer's CPU",
        ),
    ]
    assert [v for _, v, _ in peer_verdicts({"peer": behind})] == ["MISS", "MISS"]
    assert [v for _, v, _ in peer_verdicts({})] == ["n/a", "n/a"]


def test_no_cpu_figure_leaves_the_cpu_goal_unjudged() -> None:
    judged: list[tuple[str, bool | None]] = []
    peer_goals(
        lambda goal, figure, ok, shown: judged.append((goal, ok)),
        peer_section(figures(2_000, None), figures(1_000, 0.4)),
    )
    assert [ok for _, ok in judged] == [True, None]


def test_each_drain_is_printed_with_its_delivery_guarantee() -> None:
    lines: list[str] = []
    peer_lines(peer_section(figures(2_000, 0.2), figures(1_000, 0.4)), lines.append)

    assert "projector" in lines[2]
    assert "2000 events/s" in lines[2]
    assert "0.100 ms of database writes/event" in lines[2]
    assert "exactly-once effect" in lines[3]
    assert "Quix" in lines[4]
    assert "0.400 ms CPU/event" in lines[4]
    assert lines[5].strip() == "at-least-once"

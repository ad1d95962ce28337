"""GET /statements parameters (Communication 2.1.3) and the keys a statement is found by.

`parse_statement_query` checks a request's parameters; `filter_keys` lists what a stored
statement matches (to store beside it and index); `matches` is the filter itself, for an
in-memory store and as the definition a database query must agree with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from .agents import check_actor
from .checks import check_iri, check_params, check_timestamp, check_uuid, fail
from .errors import InvalidStatement
from .forms import Format

__all__ = [
    "StatementQuery",
    "filter_keys",
    "ifi_key",
    "matches",
    "parse_agent",
    "parse_agent_param",
    "parse_statement_query",
]

_SINGLE = ("statementId", "voidedStatementId")
_WITH_SINGLE = frozenset({"attachments", "format"})
_FILTERS = (
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "ascending",
)
_KNOWN = frozenset({*_SINGLE, *_WITH_SINGLE, *_FILTERS})
_SECTION = "Communication 2.1.3"


@dataclass(frozen=True)
class StatementQuery:
    """A checked GET /statements request; `limit` 0 means the server's maximum."""

    statement_id: str | None = None
    voided_statement_id: str | None = None
    agent: str | None = None
    """The `ifi_key` of the agent parameter."""
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    format: Format = "exact"
    attachments: bool = False
    ascending: bool = False
    learner: str | None = None
    """Not a parameter: a user token's userId, to which the reader limits the statements."""


def parse_statement_query(params: Mapping[str, str]) -> StatementQuery:
    """Check the query parameters of GET /statements (names are case-sensitive).

    Raises:
        InvalidStatement: Naming the parameter: an unknown one (Communication 3.2.s2.b1), both
            statementId and voidedStatementId, either with a filter (2.1.3.s2.b2), or a
            value of the wrong form.
    """
    check_params(params, _KNOWN, "Statement", _SECTION)
    single = [name for name in _SINGLE if name in params]
    if len(single) == 2:
        fail("voidedStatementId", f"cannot be combined with statementId ({_SECTION}.s2.b1)")
    if single:
        extra = sorted(set(params) - {single[0]} - _WITH_SINGLE)
        if extra:
            fail(extra[0], f"cannot be combined with {single[0]} ({_SECTION}.s2.b2)")
    values: dict[str, Any] = {}
    for name in _SINGLE:
        if name in params:
            values[_snake(name)] = check_uuid(params[name], name, _SECTION).lower()
    if "agent" in params:
        values["agent"] = parse_agent_param(params["agent"])
    for name in ("verb", "activity"):
        if name in params:
            values[name] = check_iri(params[name], name, _SECTION)
    if "registration" in params:
        values["registration"] = check_uuid(
            params["registration"], "registration", _SECTION
        ).lower()
    for name in ("since", "until"):
        if name in params:
            values[name] = check_timestamp(params[name], name, _SECTION)
    for name in ("related_activities", "related_agents", "attachments", "ascending"):
        if name in params:
            values[name] = _boolean(params[name], name)
    if "limit" in params:
        if not params["limit"].isdigit():
            fail("limit", f"must be a non-negative integer ({_SECTION})")
        values["limit"] = int(params["limit"])
    if "format" in params:
        if params["format"] not in ("exact", "ids", "canonical"):
            fail("format", f"must be exact, ids or canonical ({_SECTION})")
        values["format"] = cast(Format, params["format"])
    return StatementQuery(**values)


def _snake(name: str) -> str:
    return "statement_id" if name == "statementId" else "voided_statement_id"


def _boolean(value: str, name: str) -> bool:
    if value not in ("true", "false"):
        fail(name, f"must be true or false ({_SECTION})")
    return value == "true"


def parse_agent_param(value: str) -> str:
    """The `ifi_key` of an `agent` parameter: an Agent or identified Group as JSON.

    Raises:
        InvalidStatement: At `agent` (or inside it, e.g. `agent.mbox`).
    """
    return parse_agent(value)[0]


def parse_agent(value: str) -> tuple[str, dict[str, Any]]:
    """An `agent` parameter's `ifi_key` and the checked Agent or identified Group itself.

    Raises:
        InvalidStatement: At `agent` (or inside it, e.g. `agent.mbox`).
    """
    try:
        agent = json.loads(value)
    except ValueError:
        fail("agent", f"must be an Agent or identified Group as JSON ({_SECTION})")
    try:
        checked = check_actor(agent, "")
    except InvalidStatement as error:
        raise error.within("agent") from None
    key = ifi_key(checked)
    if key is None:
        fail("agent", f"must be identified: an anonymous Group cannot be matched ({_SECTION})")
    return key, checked


def ifi_key(actor: dict[str, Any]) -> str | None:
    """One string per Inverse Functional Identifier, e.g. `mbox:mailto:a@b.c`; None if none."""
    if "mbox" in actor:
        local, _, domain = actor["mbox"].rpartition("@")
        return f"mbox:{local}@{domain.lower()}"
    if "mbox_sha1sum" in actor:
        return f"mbox_sha1sum:{actor['mbox_sha1sum'].lower()}"
    if "openid" in actor:
        return f"openid:{actor['openid']}"
    if "account" in actor:
        account = actor["account"]
        return "account:" + json.dumps([account["homePage"], account["name"]])
    return None


def _actor_keys(actor: dict[str, Any] | None) -> list[str]:
    """An Agent's or Group's key and those of its members (a Group matches its members)."""
    if actor is None:
        return []
    keys = [ifi_key(actor), *(ifi_key(member) for member in actor.get("member", []))]
    return [key for key in keys if key is not None]


def filter_keys(statement: dict[str, Any]) -> dict[str, Any]:
    """What a stored statement is found by: agents, related agents, activities, verb, registration.

    Returns:
        `agents` (actor and Agent/Group object), `relatedAgents` (also authority, instructor,
        team, 2.0's context agents and groups, and those of a SubStatement), `activities`
        (an Activity object's id), `relatedActivities` (also every context activity, and
        those of a SubStatement), `verb` and `registration` (lowercase, or None).
    """
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    agents = _actor_keys(statement["actor"])
    if kind in ("Agent", "Group"):
        agents += _actor_keys(target)
    related = [*agents, *_actor_keys(statement.get("authority")), *_context_agents(statement)]
    activities = [target["id"]] if kind == "Activity" else []
    related_activities = [*activities, *_context_activities(statement)]
    if kind == "SubStatement":
        inner = filter_keys(target)
        related += inner["relatedAgents"]
        related_activities += inner["relatedActivities"]
    registration = statement.get("context", {}).get("registration")
    return {
        "agents": sorted(set(agents)),
        "relatedAgents": sorted(set(related)),
        "activities": activities,
        "relatedActivities": sorted(set(related_activities)),
        "verb": statement["verb"]["id"],
        "registration": registration.lower() if registration else None,
    }


def _context_agents(statement: dict[str, Any]) -> list[str]:
    context = statement.get("context", {})
    keys = _actor_keys(context.get("instructor")) + _actor_keys(context.get("team"))
    for entry in context.get("contextAgents", []):
        keys += _actor_keys(entry["agent"])
    for entry in context.get("contextGroups", []):
        keys += _actor_keys(entry["group"])
    return keys


def _context_activities(statement: dict[str, Any]) -> list[str]:
    listed = statement.get("context", {}).get("contextActivities", {}).values()
    return [activity["id"] for activities in listed for activity in activities]


def matches(statement: dict[str, Any], query: StatementQuery) -> bool:
    """Whether a stored statement passes the query's agent, verb, activity and registration.

    Time, order, limit and voiding are left to the store.
    """
    keys = filter_keys(statement)
    if query.agent is not None:
        agents = keys["relatedAgents"] if query.related_agents else keys["agents"]
        if query.agent not in agents:
            return False
    if query.activity is not None:
        activities = keys["relatedActivities"] if query.related_activities else keys["activities"]
        if query.activity not in activities:
            return False
    if query.verb is not None and keys["verb"] != query.verb:
        return False
    return query.registration is None or keys["registration"] == query.registration

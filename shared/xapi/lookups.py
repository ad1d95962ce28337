"""The Activities and Agents resources' answers (Communication 2.5 and 2.4 of 1.0.3).

`canonical_activity` is the Activity Object the LRS holds for an IRI, built from the
definitions the tenant's statements carried; `person_for` is the Person Object of an
Agent. Both are pure: the caller supplies the statements.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .agents import IFIS, check_agent
from .checks import check_iri, check_params, fail

__all__ = ["canonical_activity", "parse_activity_params", "parse_agents_params", "person_for"]

JsonObject = dict[str, Any]
_LANGUAGE_MAPS = ("name", "description")


def parse_activity_params(params: Mapping[str, str]) -> str:
    """The `activityId` (an IRI) of an Activities Resource GET; no other parameter is known.

    Raises:
        InvalidStatement: Naming the parameter.
    """
    check_params(params, ("activityId",), "Activities", "Communication 2.5", ("activityId",))
    return check_iri(params["activityId"], "activityId", "Communication 2.5")


def parse_agents_params(params: Mapping[str, str]) -> JsonObject:
    """The Agent (as JSON, validated) of an Agents Resource GET.

    Raises:
        InvalidStatement: Naming the parameter, or the Agent's property (`agent.mbox`).
    """
    check_params(params, ("agent",), "Agents", "Communication 2.4", ("agent",))
    try:
        agent = json.loads(params["agent"])
    except ValueError:
        fail("agent", "must be an Agent as JSON (Communication 2.4)")
    return check_agent(agent, "agent")


def person_for(agent: JsonObject) -> JsonObject:
    """The Person Object of a (validated) Agent: its name and identifier, each in an array.

    The LRS links no identities, so a Person is the one Agent it was asked about
    (Communication 2.4.s4: it may know no more than that).
    """
    person: JsonObject = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for ifi in IFIS:
        if ifi in agent:
            person[ifi] = [copy.deepcopy(agent[ifi])]
    return person


def canonical_activity(activity_id: str, statements: Iterable[JsonObject]) -> JsonObject:
    """The Activity Object for `activity_id` from statements given newest first.

    Every place a statement names the Activity (object, context activities, a
    SubStatement's) contributes its definition; a newer one's properties win, and language
    maps (`name`, `description`) are merged per language, the newest text winning. An
    Activity never defined is `{"objectType": "Activity", "id": …}`.
    """
    definition: JsonObject = {}
    for statement in reversed(list(statements)):
        for activity in _activities(statement):
            if activity.get("id") == activity_id and "definition" in activity:
                definition = _merged(definition, activity["definition"])
    found: JsonObject = {"objectType": "Activity", "id": activity_id}
    if definition:
        found["definition"] = definition
    return found


def _merged(older: JsonObject, newer: JsonObject) -> JsonObject:
    merged = {**older, **copy.deepcopy(newer)}
    for key in _LANGUAGE_MAPS:
        if isinstance(older.get(key), dict) and isinstance(newer.get(key), dict):
            merged[key] = {**older[key], **newer[key]}
    return merged


def _activities(statement: JsonObject) -> Iterator[JsonObject]:
    target = statement.get("object", {})
    if target.get("objectType", "Activity") == "Activity":
        yield target
    elif target.get("objectType") == "SubStatement":
        yield from _activities(target)
    listed = statement.get("context", {}).get("contextActivities", {})
    for entries in listed.values():
        yield from entries

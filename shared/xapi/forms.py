"""The three forms of a stored statement a GET can ask for (Communication 2.1.3 `format`).

- `exact`: as stored.
- `ids`: only what identifies each Agent, Group, Activity and Verb.
- `canonical`: Activities with the LRS's canonical definition and Verbs with its display, each
  language map reduced to the one language that best fits the request's Accept-Language.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from .agents import IFIS

__all__ = ["Format", "best_language", "in_format", "ranked_languages"]

Format = Literal["exact", "ids", "canonical"]
JsonObject = dict[str, Any]
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")


def in_format(
    statement: JsonObject,
    form: Format,
    *,
    languages: Sequence[str] = (),
    definitions: Mapping[str, JsonObject] | None = None,
    displays: Mapping[str, JsonObject] | None = None,
) -> JsonObject:
    """A stored statement in the requested form; the input is not changed.

    Args:
        statement: The statement as stored (validated, contextActivities as arrays).
        form: `exact`, `ids` or `canonical`.
        languages: For `canonical`: the client's languages, best first (`ranked_languages`).
        definitions: For `canonical`: the LRS's definition per activity IRI; an activity
            without one keeps the definition it was sent with.
        displays: For `canonical`: the LRS's display per verb IRI, likewise.
    """
    copied = copy.deepcopy(statement)
    if form == "exact":
        return copied
    if form == "ids":
        return _walk(copied, activity=_activity_ids, verb=_verb_ids, actor=_actor_ids)
    known_definitions = definitions or {}
    known_displays = displays or {}

    def canonical_activity(activity: JsonObject) -> JsonObject:
        definition = known_definitions.get(activity["id"], activity.get("definition"))
        if definition is not None:
            activity["definition"] = _filter_definition(copy.deepcopy(definition), languages)
        return activity

    def canonical_verb(verb: JsonObject) -> JsonObject:
        display = known_displays.get(verb["id"], verb.get("display"))
        if display is not None:
            verb["display"] = best_language(display, languages)
        return verb

    return _walk(copied, activity=canonical_activity, verb=canonical_verb, actor=lambda a: a)


def _walk(
    statement: JsonObject,
    *,
    activity: Callable[[JsonObject], JsonObject],
    verb: Callable[[JsonObject], JsonObject],
    actor: Callable[[JsonObject], JsonObject],
) -> JsonObject:
    """Apply the three rewrites wherever an Activity, a Verb or an Agent/Group occurs."""
    for key in ("actor", "authority"):
        if key in statement:
            statement[key] = actor(statement[key])
    statement["verb"] = verb(statement["verb"])
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        statement["object"] = activity(target)
    elif kind in ("Agent", "Group"):
        statement["object"] = actor(target)
    elif kind == "SubStatement":
        statement["object"] = _walk(target, activity=activity, verb=verb, actor=actor)
    context = statement.get("context")
    if context is not None:
        for key in ("instructor", "team"):
            if key in context:
                context[key] = actor(context[key])
        for listed in context.get("contextActivities", {}).values():
            listed[:] = [activity(item) for item in listed]
        for key, member in (("contextAgents", "agent"), ("contextGroups", "group")):
            for entry in context.get(key, []):
                entry[member] = actor(entry[member])
    return statement


def _activity_ids(activity: JsonObject) -> JsonObject:
    """Only the id: what the conformance suite checks (XAPI-00171) and all that identifies."""
    return {"id": activity["id"]}


def _verb_ids(verb: JsonObject) -> JsonObject:
    return {"id": verb["id"]}


def _actor_ids(actor: JsonObject) -> JsonObject:
    """An Agent or identified Group by its IFI; an anonymous Group by its members' IFIs."""
    kept = {key: actor[key] for key in ("objectType", *IFIS) if key in actor}
    if not any(key in actor for key in IFIS) and "member" in actor:
        kept["member"] = [_actor_ids(member) for member in actor["member"]]
    return kept


def _filter_definition(definition: JsonObject, languages: Sequence[str]) -> JsonObject:
    for key in ("name", "description"):
        if key in definition:
            definition[key] = best_language(definition[key], languages)
    for key in _COMPONENT_LISTS:
        for component in definition.get(key, []):
            if "description" in component:
                component["description"] = best_language(component["description"], languages)
    return definition


def ranked_languages(accept_language: str | None) -> list[str]:
    """The language ranges of an Accept-Language header, best first (q=0 ones dropped).

    Malformed entries are skipped rather than refused: the header only steers a choice.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate((accept_language or "").split(",")):
        tag, _, params = entry.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def best_language(language_map: JsonObject, languages: Sequence[str]) -> JsonObject:
    """Reduce a language map to its one entry that best fits `languages` (Communication 2.1.3).

    The first requested range with an entry wins: an exact tag (any case), then a more or less
    specific one (`en` matches `en-US` and the other way round); `*` takes the first entry.
    Without any fit the map's first entry is kept. An empty map stays empty.
    """
    if not language_map:
        return {}
    keys = list(language_map)
    for wanted in (tag.lower() for tag in languages):
        if wanted == "*":
            return {keys[0]: language_map[keys[0]]}
        for key in keys:
            lowered = key.lower()
            if lowered == wanted:
                return {key: language_map[key]}
        for key in keys:
            lowered = key.lower()
            if lowered.startswith(wanted + "-") or wanted.startswith(lowered + "-"):
                return {key: language_map[key]}
    return {keys[0]: language_map[keys[0]]}

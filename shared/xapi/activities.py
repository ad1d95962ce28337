"""Validation of Activities and their definitions, interactions included (Data 2.4.4.1)."""

from __future__ import annotations

from .checks import (
    JsonObject,
    at,
    check_array,
    check_extensions,
    check_iri,
    check_language_map,
    check_object,
    check_string,
    fail,
    index,
)

__all__ = ["COMPONENT_LISTS", "INTERACTION_TYPES", "check_activity"]

COMPONENT_LISTS: dict[str, tuple[str, ...]] = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
"""Each interactionType and the component lists it supports (Data 2.4.4.1.s15.table2)."""

INTERACTION_TYPES = tuple(COMPONENT_LISTS)
"""The ten interactionType values, case-sensitive (Data 2.4.4.1.s8)."""

_ALL_LISTS = ("choices", "scale", "source", "target", "steps")
_INTERACTION_KEYS = ("interactionType", "correctResponsesPattern", *_ALL_LISTS)
_DEFINITION_KEYS = ("name", "description", "type", "moreInfo", "extensions", *_INTERACTION_KEYS)


def check_activity(value: object, path: str) -> JsonObject:
    """An Activity: optional `objectType` "Activity", an IRI `id`, an optional definition."""
    activity = check_object(
        value, path, "Data 2.4.4.1", allowed=("objectType", "id", "definition"), required=("id",)
    )
    if "objectType" in activity and activity["objectType"] != "Activity":
        fail(at(path, "objectType"), 'must be "Activity" (Data 2.4.4.1)')
    check_iri(activity["id"], at(path, "id"), "Data 2.4.4.1")
    if "definition" in activity:
        _check_definition(activity["definition"], at(path, "definition"))
    return activity


def _check_definition(value: object, path: str) -> None:
    section = "Data 2.4.4.1.s2"
    definition = check_object(value, path, section, allowed=_DEFINITION_KEYS)
    for key in ("name", "description"):
        if key in definition:
            check_language_map(definition[key], at(path, key), section)
    for key in ("type", "moreInfo"):
        if key in definition:
            check_iri(definition[key], at(path, key), section)
    if "extensions" in definition:
        check_extensions(definition["extensions"], at(path, "extensions"), section)
    _check_interaction(definition, path)


def _check_interaction(definition: JsonObject, path: str) -> None:
    """interactionType, its response patterns and the component lists it supports."""
    section = "Data 2.4.4.1.s13"
    used = [key for key in _INTERACTION_KEYS[1:] if key in definition]
    if "interactionType" not in definition:
        if used:
            fail(
                at(path, "interactionType"),
                f"is required when {used[0]} is given ({section}.b1)",
            )
        return
    kind = check_string(definition["interactionType"], at(path, "interactionType"), section)
    if kind not in COMPONENT_LISTS:
        fail(
            at(path, "interactionType"),
            f"must be one of {', '.join(INTERACTION_TYPES)}, exactly so cased ({section}.b1)",
        )
    if "correctResponsesPattern" in definition:
        pattern_path = at(path, "correctResponsesPattern")
        patterns = check_array(definition["correctResponsesPattern"], pattern_path, section)
        for position, pattern in enumerate(patterns):
            check_string(pattern, index(pattern_path, position), section)
    supported = COMPONENT_LISTS[kind]
    for key in _ALL_LISTS:
        if key not in definition:
            continue
        if key not in supported:
            fail(
                at(path, key),
                f'is not a component list of interactionType "{kind}" (Data 2.4.4.1.s15.table2)',
            )
        _check_components(definition[key], at(path, key))


def _check_components(value: object, path: str) -> None:
    """An array of interaction components with distinct ids (Data 2.4.4.1.s16)."""
    section = "Data 2.4.4.1.s15"
    components = check_array(value, path, section)
    seen: set[str] = set()
    for position, component in enumerate(components):
        component_path = index(path, position)
        checked = check_object(
            component, component_path, section, allowed=("id", "description"), required=("id",)
        )
        component_id = check_string(checked["id"], at(component_path, "id"), section)
        if not component_id:
            fail(at(component_path, "id"), f"must not be empty ({section})")
        if component_id in seen:
            fail(at(component_path, "id"), f"repeats {component_id!r} (Data 2.4.4.1.s16.b1)")
        seen.add(component_id)
        if "description" in checked:
            check_language_map(checked["description"], at(component_path, "description"), section)

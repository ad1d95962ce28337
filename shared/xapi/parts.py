"""Validation of a statement's result, context and attachments (Data 2.4.5, 2.4.6, 2.4.11)."""

from __future__ import annotations

from .activities import check_activity
from .agents import check_actor, check_agent, check_group
from .checks import (
    JsonObject,
    at,
    check_array,
    check_bool,
    check_extensions,
    check_iri,
    check_language_map,
    check_number,
    check_object,
    check_objects,
    check_string,
    check_uuid,
    fail,
    index,
)
from .formats import XapiVersion, is_language_tag, is_media_type, is_sha2, parse_duration_seconds

__all__ = ["SIGNATURE_USAGE", "check_attachments", "check_context", "check_result"]

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
"""The usageType of a signed statement's JWS attachment (Data 2.6)."""

_CONTEXT_KEYS = (
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
)
_CONTEXT_KEYS_2 = (*_CONTEXT_KEYS, "contextAgents", "contextGroups")
_CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")
_ATTACHMENT_KEYS = (
    "usageType",
    "display",
    "description",
    "contentType",
    "length",
    "sha2",
    "fileUrl",
)


def check_result(value: object, path: str) -> None:
    """A Result: score, success, completion, response, duration, extensions (Data 2.4.5)."""
    section = "Data 2.4.5"
    result = check_object(
        value,
        path,
        section,
        allowed=("score", "success", "completion", "response", "duration", "extensions"),
    )
    if "score" in result:
        _check_score(result["score"], at(path, "score"))
    for key in ("success", "completion"):
        if key in result:
            check_bool(result[key], at(path, key), section)
    if "response" in result:
        check_string(result["response"], at(path, "response"), section)
    if "duration" in result:
        duration = check_string(result["duration"], at(path, "duration"), section)
        if parse_duration_seconds(duration) is None:
            fail(at(path, "duration"), "must be an ISO 8601 duration such as PT1H2M3.5S (Data 4.6)")
    if "extensions" in result:
        check_extensions(result["extensions"], at(path, "extensions"), section)


def _check_score(value: object, path: str) -> None:
    """Check scaled in [-1, 1]; raw within min and max; min below max (Data 2.4.5.1)."""
    section = "Data 2.4.5.1"
    score = check_object(value, path, section, allowed=("scaled", "raw", "min", "max"))
    numbers = {key: check_number(score[key], at(path, key), section) for key in score}
    scaled = numbers.get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        fail(at(path, "scaled"), f"must be from -1 to 1 ({section})")
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        fail(at(path, "min"), f"must be less than max ({section})")
    if raw is not None and low is not None and raw < low:
        fail(at(path, "raw"), f"must not be less than min ({section})")
    if raw is not None and high is not None and raw > high:
        fail(at(path, "raw"), f"must not be greater than max ({section})")


def check_context(
    value: object, path: str, *, object_is_activity: bool, version: XapiVersion
) -> JsonObject:
    """A Context (Data 2.4.6); returns it with contextActivities values made arrays.

    Args:
        value: The JSON value.
        path: Its path, for errors.
        object_is_activity: Whether the statement's object is an Activity: `revision` and
            `platform` are allowed only then (Data 2.4.6.s4.b1, b2).
        version: 2.0.0 adds `contextAgents` and `contextGroups`.
    """
    section = "Data 2.4.6"
    allowed = _CONTEXT_KEYS if version == "1.0.3" else _CONTEXT_KEYS_2
    context = check_object(value, path, section, allowed=allowed)
    if "registration" in context:
        check_uuid(context["registration"], at(path, "registration"), "Data 2.4.6.1")
    if "instructor" in context:
        check_actor(context["instructor"], at(path, "instructor"))
    if "team" in context:
        team = context["team"]
        if not isinstance(team, dict) or team.get("objectType") != "Group":
            fail(at(path, "team"), f'must be a Group (objectType "Group") ({section})')
        check_group(team, at(path, "team"))
    for key in ("revision", "platform"):
        if key in context:
            check_string(context[key], at(path, key), section)
            if not object_is_activity:
                fail(at(path, key), f"is allowed only for an Activity object ({section}.s4)")
    if "language" in context:
        language = check_string(context["language"], at(path, "language"), section)
        if not is_language_tag(language):
            fail(at(path, "language"), f"must be an RFC 5646 language tag ({section})")
    if "statement" in context:
        _check_statement_ref(context["statement"], at(path, "statement"))
    if "extensions" in context:
        check_extensions(context["extensions"], at(path, "extensions"), section)
    if "contextActivities" in context:
        context["contextActivities"] = _context_activities(
            context["contextActivities"], at(path, "contextActivities")
        )
    for key, kind, member in (("contextAgents", "contextAgent", "agent"),
                              ("contextGroups", "contextGroup", "group")):  # fmt: skip
        if key in context:
            _check_context_actors(context[key], at(path, key), kind, member)
    return context


def _check_statement_ref(value: object, path: str) -> None:
    ref = check_object(
        value, path, "Data 2.4.4.3", allowed=("objectType", "id"), required=("objectType", "id")
    )
    if ref["objectType"] != "StatementRef":
        fail(at(path, "objectType"), 'must be "StatementRef" (Data 2.4.4.3.s4.b1)')
    check_uuid(ref["id"], at(path, "id"), "Data 2.4.4.3.s4.b2")


def _context_activities(value: object, path: str) -> JsonObject:
    """parent, grouping, category, other: each an Activity or an array of them, made arrays."""
    section = "Data 2.4.6.2"
    activities = check_object(value, path, section, allowed=_CONTEXT_ACTIVITY_KEYS)
    normalised: JsonObject = {}
    for key, listed in activities.items():
        items = listed if isinstance(listed, list) else [listed]
        for position, activity in enumerate(items):
            where = index(at(path, key), position) if isinstance(listed, list) else at(path, key)
            check_activity(activity, where)
        normalised[key] = items
    return normalised


def _check_context_actors(value: object, path: str, kind: str, member: str) -> None:
    """2.0's contextAgents / contextGroups: objects naming an actor and relevant types."""
    section = "xAPI 2.0 context"
    for entry_path, checked in check_objects(
        value,
        path,
        section,
        allowed=("objectType", member, "relevantTypes"),
        required=("objectType", member),
    ):
        if checked["objectType"] != kind:
            fail(at(entry_path, "objectType"), f'must be "{kind}" ({section})')
        if member == "agent":
            check_agent(checked[member], at(entry_path, member))
        else:
            check_group(checked[member], at(entry_path, member))
        if "relevantTypes" in checked:
            types_path = at(entry_path, "relevantTypes")
            types = check_array(checked["relevantTypes"], types_path, section, non_empty=True)
            for type_position, iri in enumerate(types):
                check_iri(iri, index(types_path, type_position), section)


def check_attachments(value: object, path: str) -> None:
    """Attachment metadata: usageType, display, contentType, length, sha2 (Data 2.4.11)."""
    section = "Data 2.4.11"
    for entry_path, attachment in check_objects(
        value,
        path,
        section,
        allowed=_ATTACHMENT_KEYS,
        required=("usageType", "display", "contentType", "length", "sha2"),
    ):
        usage = check_iri(attachment["usageType"], at(entry_path, "usageType"), section)
        check_language_map(attachment["display"], at(entry_path, "display"), section)
        if "description" in attachment:
            check_language_map(attachment["description"], at(entry_path, "description"), section)
        type_path = at(entry_path, "contentType")
        content_type = check_string(attachment["contentType"], type_path, section)
        if not is_media_type(content_type):
            fail(at(entry_path, "contentType"), f"must be an Internet media type ({section})")
        length = attachment["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            fail(at(entry_path, "length"), f"must be a non-negative integer ({section})")
        sha2 = check_string(attachment["sha2"], at(entry_path, "sha2"), section)
        if not is_sha2(sha2):
            fail(at(entry_path, "sha2"), f"must be a hex SHA-2 digest ({section})")
        if "fileUrl" in attachment:
            check_iri(attachment["fileUrl"], at(entry_path, "fileUrl"), section)
        if usage == SIGNATURE_USAGE and content_type != "application/octet-stream":
            fail(
                at(entry_path, "contentType"),
                "a signature attachment must be application/octet-stream (Data 2.6.s4.b2)",
            )

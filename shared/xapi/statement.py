"""Validation of whole statements, one or a batch, for xAPI 1.0.3 and 2.0.0 (Data 2.2-2.4).

`validate_statement` checks every statement rule of the data model and returns the statement
as the LRS stores it: a copy with each contextActivities value made an array (Data 2.4.6.2.s4).
It does not assign `id`, `stored`, `timestamp`, `authority` or `version`: the service does.
"""

from __future__ import annotations

import copy

from .activities import check_activity
from .agents import IFIS, check_actor, check_authority
from .checks import (
    JsonObject,
    at,
    check_array,
    check_iri,
    check_language_map,
    check_object,
    check_string,
    check_timestamp,
    check_uuid,
    fail,
)
from .errors import InvalidStatement
from .formats import XapiVersion, is_statement_version
from .parts import check_attachments, check_context, check_result

__all__ = ["VOIDED", "validate_statement", "validate_statements"]

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
"""The reserved verb of a voiding statement (Data 2.3.2)."""

_STATEMENT_KEYS = (
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
)
_SUBSTATEMENT_KEYS = (
    "objectType",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "attachments",
)
_OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")


def validate_statement(raw: object, *, version: XapiVersion = "1.0.3") -> JsonObject:
    """Check one statement as a client sent it (decoded JSON) and return its stored form.

    Args:
        raw: The decoded JSON value.
        version: The API version of the request (`X-Experience-API-Version`).

    Returns:
        A deep copy of the statement with every contextActivities value made an array; the
        input is not changed.

    Raises:
        InvalidStatement: Naming the first offending property and the rule it breaks.
    """
    statement = copy.deepcopy(raw)
    section = "Data 2.4"
    checked = check_object(
        statement, "", section, allowed=_STATEMENT_KEYS, required=("actor", "verb", "object")
    )
    if "id" in checked:
        check_uuid(checked["id"], "id", "Data 2.4.1")
    _check_core(checked, "", version, nested=False)
    if "stored" in checked:
        check_timestamp(checked["stored"], "stored", "Data 2.4.8")
    if "authority" in checked:
        check_authority(checked["authority"], "authority")
    if "version" in checked:
        text = check_string(checked["version"], "version", "Data 2.4.10")
        if not is_statement_version(text, version):
            accepted = "1.0.x" if version == "1.0.3" else "1.0.x or 2.0.x"
            fail("version", f"must be {accepted} (Data 2.4.10.s3)")
    return checked


def validate_statements(raw: object, *, version: XapiVersion = "1.0.3") -> list[JsonObject]:
    """Check the body of a POST: one statement or an array of them.

    Returns:
        The stored forms, in order (a single statement gives a list of one).

    Raises:
        InvalidStatement: For the first invalid statement; inside an array its path starts
            with the index, e.g. `[2].actor.mbox`. An empty array is refused.
    """
    if not isinstance(raw, list):
        return [validate_statement(raw, version=version)]
    check_array(raw, "", "Communication 2.1.2", non_empty=True)
    checked: list[JsonObject] = []
    for position, statement in enumerate(raw):
        try:
            checked.append(validate_statement(statement, version=version))
        except InvalidStatement as error:
            raise error.within(f"[{position}]") from None
    return checked


def _check_core(statement: JsonObject, path: str, version: XapiVersion, *, nested: bool) -> None:
    """The parts a statement and a SubStatement share: actor to attachments."""
    check_actor(statement["actor"], at(path, "actor"))
    verb_id = _check_verb(statement["verb"], at(path, "verb"))
    target = _check_object(statement["object"], at(path, "object"), version, nested=nested)
    if verb_id == VOIDED and target.get("objectType") != "StatementRef":
        fail(at(path, "object"), "a voiding statement's object must be a StatementRef (Data 2.3.2)")
    if "result" in statement:
        check_result(statement["result"], at(path, "result"))
    if "context" in statement:
        statement["context"] = check_context(
            statement["context"],
            at(path, "context"),
            object_is_activity=target.get("objectType", "Activity") == "Activity",
            version=version,
        )
    if "timestamp" in statement:
        check_timestamp(statement["timestamp"], at(path, "timestamp"), "Data 2.4.7")
    if "attachments" in statement:
        check_attachments(statement["attachments"], at(path, "attachments"))


def _check_verb(value: object, path: str) -> str:
    verb = check_object(value, path, "Data 2.4.3", allowed=("id", "display"), required=("id",))
    verb_id = check_iri(verb["id"], at(path, "id"), "Data 2.4.3")
    if "display" in verb:
        check_language_map(verb["display"], at(path, "display"), "Data 2.4.3")
    return verb_id


def _check_object(value: object, path: str, version: XapiVersion, *, nested: bool) -> JsonObject:
    """Dispatch on objectType (absent means Activity, Data 2.4.4)."""
    if not isinstance(value, dict):
        return check_object(value, path, "Data 2.4.4", allowed=())
    if "objectType" not in value and any(key in value for key in (*IFIS, "member")):
        fail(at(path, "objectType"), "is required for an Agent or Group object (Data 2.4.4.2)")
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return check_activity(value, path)
    if kind in ("Agent", "Group"):
        return check_actor(value, path, object_type_required=True)
    if kind == "StatementRef":
        ref = check_object(
            value, path, "Data 2.4.4.3", allowed=("objectType", "id"), required=("id",)
        )
        check_uuid(ref["id"], at(path, "id"), "Data 2.4.4.3.s4.b2")
        return ref
    if kind == "SubStatement":
        if nested:
            fail(at(path, "objectType"), "a SubStatement must not contain one (Data 2.4.4.3.s8.b4)")
        return _check_substatement(value, path, version)
    fail(at(path, "objectType"), f"must be one of {', '.join(_OBJECT_TYPES)} (Data 2.4.4.s2)")


def _check_substatement(value: JsonObject, path: str, version: XapiVersion) -> JsonObject:
    """A SubStatement: a statement without id, stored, version, authority (Data 2.4.4.3.s8)."""
    for key in ("id", "stored", "version", "authority"):
        if key in value:
            fail(at(path, key), "is not allowed in a SubStatement (Data 2.4.4.3.s8.b3)")
    substatement = check_object(
        value,
        path,
        "Data 2.4.4.3",
        allowed=_SUBSTATEMENT_KEYS,
        required=("objectType", "actor", "verb", "object"),
    )
    _check_core(substatement, path, version, nested=True)
    return substatement

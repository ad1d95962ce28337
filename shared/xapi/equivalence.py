"""Whether two statements are the same statement (Data 2.3.1.s9), for conflict detection.

A PUT or POST of a statement id the LRS already holds is a no-op when the two are the same,
and a 409 otherwise. Differences that the exceptions to immutability (Data 2.3.1) allow are
ignored: the properties the LRS assigns (`id`, `stored`, `authority`, `version`, and
`timestamp` when one side lacks it), Activity definitions and Verb displays, the timezone of
a timestamp, the order of Group members, a single context activity against an array of one,
the case of an e-mail domain and of UUIDs, and duration precision beyond 0.01 s (Data 4.6).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from .formats import parse_timestamp

__all__ = ["same_statement"]

JsonObject = dict[str, Any]
_ASSIGNED = ("id", "stored", "authority", "version")
_DURATION_FRACTION = re.compile(r"(\d+)[.,](\d+)S$")


def same_statement(stored: JsonObject, sent: JsonObject) -> bool:
    """Tell whether `sent` is the same statement as `stored` (both validated).

    Ids only differ when both statements carry one.
    """
    if "id" in stored and "id" in sent and stored["id"].lower() != sent["id"].lower():
        return False
    left, right = _comparable(stored), _comparable(sent)
    if "timestamp" not in left or "timestamp" not in right:
        left.pop("timestamp", None)
        right.pop("timestamp", None)
    return left == right


def _comparable(statement: JsonObject) -> JsonObject:
    body = {key: value for key, value in statement.items() if key not in _ASSIGNED}
    return _core(body)


def _core(body: JsonObject) -> JsonObject:
    """Normalise the parts a statement and a SubStatement share."""
    body = dict(body)
    body["actor"] = _actor(body["actor"])
    body["verb"] = {"id": body["verb"]["id"]}
    body["object"] = _object(body["object"])
    if "timestamp" in body:
        body["timestamp"] = _instant(body["timestamp"])
    if "context" in body:
        body["context"] = _context(body["context"])
    result = body.get("result")
    if result is not None and "duration" in result:
        body["result"] = {**result, "duration": _duration(result["duration"])}
    return body


def _object(target: JsonObject) -> JsonObject:
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        return {"objectType": "Activity", "id": target["id"]}
    if kind in ("Agent", "Group"):
        return _actor(target)
    if kind == "StatementRef":
        return {"objectType": kind, "id": target["id"].lower()}
    return _core(target)


def _actor(actor: JsonObject) -> JsonObject:
    normal = {key: value for key, value in actor.items() if key != "member"}
    normal.setdefault("objectType", "Agent")
    if "mbox" in normal:
        local, _, domain = normal["mbox"].rpartition("@")
        normal["mbox"] = f"{local}@{domain.lower()}"
    if "mbox_sha1sum" in normal:
        normal["mbox_sha1sum"] = normal["mbox_sha1sum"].lower()
    if "member" in actor:
        members = [_actor(member) for member in actor["member"]]
        normal["member"] = sorted(members, key=lambda member: json.dumps(member, sort_keys=True))
    return normal


def _context(context: JsonObject) -> JsonObject:
    normal = dict(context)
    if "registration" in normal:
        normal["registration"] = normal["registration"].lower()
    if "statement" in normal:
        normal["statement"] = {**normal["statement"], "id": normal["statement"]["id"].lower()}
    for key in ("instructor", "team"):
        if key in normal:
            normal[key] = _actor(normal[key])
    if "contextActivities" in normal:
        normal["contextActivities"] = {
            key: [_object(item) for item in (listed if isinstance(listed, list) else [listed])]
            for key, listed in normal["contextActivities"].items()
        }
    for key, member in (("contextAgents", "agent"), ("contextGroups", "group")):
        if key in normal:
            normal[key] = [{**entry, member: _actor(entry[member])} for entry in normal[key]]
    return normal


def _instant(text: str) -> datetime | str:
    """A timestamp as an instant to the millisecond (Data 4.5.s1.b7 allows truncation)."""
    parsed = parse_timestamp(text)
    if parsed is None:
        return text
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _duration(text: str) -> str:
    """A duration with its seconds' fraction cut to hundredths (Data 4.6.s1.b5)."""
    match = _DURATION_FRACTION.search(text)
    if match is None:
        return text
    fraction = match.group(2)[:2].rstrip("0")
    seconds = f"{match.group(1)}.{fraction}S" if fraction else f"{match.group(1)}S"
    return text[: match.start()] + seconds

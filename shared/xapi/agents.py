"""Validation of Agents, Groups and authorities (Data 2.4.2, 2.4.9)."""

from __future__ import annotations

from .checks import (
    JsonObject,
    at,
    check_array,
    check_iri,
    check_object,
    check_string,
    fail,
    index,
)
from .formats import is_mailto, is_sha1

__all__ = ["IFIS", "check_actor", "check_agent", "check_authority", "check_group"]

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
"""The four Inverse Functional Identifiers, in the specification's order."""

_AGENT_KEYS = ("objectType", "name", *IFIS)
_GROUP_KEYS = ("objectType", "name", "member", *IFIS)


def _check_ifis(value: JsonObject, path: str, section: str, *, required: bool) -> None:
    """At most one IFI (exactly one when `required`), each well-formed (Data 2.4.2.3)."""
    present = [key for key in IFIS if key in value]
    if len(present) > 1:
        fail(
            at(path, present[1]),
            f"only one Inverse Functional Identifier is allowed, {present[0]} is already given "
            f"({section}, Data 2.4.2.1.s2.b2)",
        )
    if required and not present:
        fail(
            path,
            "must be identified by exactly one of mbox, mbox_sha1sum, openid, account "
            f"({section}, Data 2.4.2.1.s2.b1)",
        )
    if "mbox" in value:
        mbox = check_string(value["mbox"], at(path, "mbox"), "Data 2.4.2.3")
        if not is_mailto(mbox):
            fail(at(path, "mbox"), "must be a mailto IRI: mailto:ana@example.com (Data 2.4.2.3)")
    if "mbox_sha1sum" in value:
        digest = check_string(value["mbox_sha1sum"], at(path, "mbox_sha1sum"), "Data 2.4.2.3")
        if not is_sha1(digest):
            fail(at(path, "mbox_sha1sum"), "must be a hex SHA-1 of a mailto IRI (Data 2.4.2.3)")
    if "openid" in value:
        check_iri(value["openid"], at(path, "openid"), "Data 2.4.2.3")
    if "account" in value:
        account_path = at(path, "account")
        account = check_object(
            value["account"],
            account_path,
            "Data 2.4.2.4",
            allowed=("homePage", "name"),
            required=("homePage", "name"),
        )
        check_iri(account["homePage"], at(account_path, "homePage"), "Data 2.4.2.4")
        check_string(account["name"], at(account_path, "name"), "Data 2.4.2.4")


def check_agent(value: object, path: str) -> JsonObject:
    """An Agent: optional `objectType` "Agent", optional `name`, exactly one IFI (2.4.2.1)."""
    agent = check_object(value, path, "Data 2.4.2.1", allowed=_AGENT_KEYS)
    if "objectType" in agent and agent["objectType"] != "Agent":
        fail(at(path, "objectType"), 'must be "Agent" (Data 2.4.2.1)')
    if "name" in agent:
        check_string(agent["name"], at(path, "name"), "Data 2.4.2.1")
    _check_ifis(agent, path, "Data 2.4.2.1", required=True)
    return agent


def check_group(value: object, path: str) -> JsonObject:
    """A Group: `objectType` "Group"; anonymous ones list members, none of them a Group.

    An identified Group has one IFI and may list members; an anonymous Group (no IFI) must
    list at least one (Data 2.4.2.2.s4, s5).
    """
    group = check_object(value, path, "Data 2.4.2.2", allowed=_GROUP_KEYS, required=("objectType",))
    if group["objectType"] != "Group":
        fail(at(path, "objectType"), 'must be "Group" (Data 2.4.2.2)')
    if "name" in group:
        check_string(group["name"], at(path, "name"), "Data 2.4.2.2")
    _check_ifis(group, path, "Data 2.4.2.2", required=False)
    identified = any(key in group for key in IFIS)
    if "member" not in group:
        if not identified:
            fail(at(path, "member"), "an anonymous Group must list members (Data 2.4.2.2.s4.b1)")
        return group
    members_path = at(path, "member")
    members = check_array(group["member"], members_path, "Data 2.4.2.2", non_empty=not identified)
    for position, member in enumerate(members):
        member_path = index(members_path, position)
        if isinstance(member, dict) and member.get("objectType") == "Group":
            fail(member_path, "a Group's members must be Agents, not Groups (Data 2.4.2.2.s4.b2)")
        check_agent(member, member_path)
    return group


def check_actor(value: object, path: str, *, object_type_required: bool = False) -> JsonObject:
    """An Agent or a Group, told apart by `objectType` (absent means Agent).

    Args:
        value: The JSON value.
        path: Its path, for errors.
        object_type_required: True where the specification requires `objectType`, as for an
            Agent or Group used as a statement's object (Data 2.4.4.2.s1.b1).
    """
    if isinstance(value, dict):
        if object_type_required and "objectType" not in value:
            fail(at(path, "objectType"), "is required for an Agent or Group object (Data 2.4.4.2)")
        if value.get("objectType") == "Group":
            return check_group(value, path)
    return check_agent(value, path)


def check_authority(value: object, path: str) -> JsonObject:
    """An authority: an Agent, or an anonymous Group of exactly two Agents (Data 2.4.9.s3.b1).

    The two-member Group is the 3-legged OAuth form: the application and the user.
    """
    authority = check_actor(value, path)
    if authority.get("objectType") != "Group":
        return authority
    if any(key in authority for key in IFIS):
        fail(path, "an authority Group must be anonymous (Data 2.4.9.s3.b1)")
    if len(authority["member"]) != 2:
        fail(at(path, "member"), "an authority Group must have two Agents (Data 2.4.9.s3.b1)")
    return authority

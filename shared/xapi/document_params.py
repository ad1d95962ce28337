"""The parameters of the document resources: State, Activity Profile, Agent Profile.

Each request names one document, or with its id left out all of a context (for a GET of
the ids, optionally `since`, and a State DELETE). Names are case-sensitive; an unknown
parameter is a 400 naming it (Communication 2.2-2.7 of 1.0.3; 2.0.0 alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .checks import check_iri, check_params, check_timestamp, check_uuid, fail
from .query import parse_agent

__all__ = [
    "DocumentAddress",
    "DocumentResource",
    "Method",
    "parse_profile_params",
    "parse_state_params",
]

Method = Literal["GET", "HEAD", "PUT", "POST", "DELETE"]
DocumentResource = Literal["state", "activity_profile", "agent_profile"]

_STATE = "Communication 2.3"
_STATE_PARAMS = frozenset({"activityId", "agent", "registration", "stateId", "since"})
_PROFILES: dict[str, tuple[str, str, str]] = {
    "activity_profile": ("activityId", "Activity Profile", "Communication 2.7"),
    "agent_profile": ("agent", "Agent Profile", "Communication 2.6"),
}


@dataclass(frozen=True)
class DocumentAddress:
    """Which document(s) a request means; `document_id` None means all of the context.

    `activity_id` is empty for the Agent Profile resource and `agent` for the Activity
    Profile resource; `document_id` is the stateId or profileId.
    """

    resource: DocumentResource
    activity_id: str
    agent: str
    """The agent's `ifi_key`."""
    actor: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The checked agent itself (None for the Activity Profile resource)."""
    registration: str | None = None
    document_id: str | None = None
    since: datetime | None = None


def parse_state_params(method: Method, params: Mapping[str, str]) -> DocumentAddress:
    """Check the parameters of a State Resource request.

    activityId (IRI) and agent (Agent JSON) are always required; stateId is required by PUT
    and POST; `since` is allowed only on a GET of all ids; registration must be a UUID.

    Raises:
        InvalidStatement: Naming the parameter.
    """
    check_params(params, _STATE_PARAMS, "State", _STATE, ("activityId", "agent"))
    _check_id(method, params, "stateId", _STATE)
    registration = params.get("registration")
    agent, actor = parse_agent(params["agent"])
    return DocumentAddress(
        resource="state",
        activity_id=check_iri(params["activityId"], "activityId", _STATE),
        agent=agent,
        actor=actor,
        registration=None
        if registration is None
        else check_uuid(registration, "registration", _STATE).lower(),
        document_id=params.get("stateId"),
        since=_since(params, _STATE),
    )


def parse_profile_params(
    resource: Literal["activity_profile", "agent_profile"],
    method: Method,
    params: Mapping[str, str],
) -> DocumentAddress:
    """Check the parameters of an Activity Profile or Agent Profile request.

    `activityId` (an IRI) or `agent` (Agent JSON) is required; `profileId` is required by
    PUT, POST and DELETE (a profile has no delete-all); `since` only on a GET of all ids.

    Raises:
        InvalidStatement: Naming the parameter.
    """
    owner, name, section = _PROFILES[resource]
    check_params(params, (owner, "profileId", "since"), name, section, (owner,))
    _check_id(method, params, "profileId", section)
    if method == "DELETE" and "profileId" not in params:
        fail("profileId", f"is required to delete a profile document ({section})")
    if owner == "activityId":
        activity_id, agent, actor = check_iri(params[owner], owner, section), "", None
    else:
        (agent, actor), activity_id = parse_agent(params[owner]), ""
    return DocumentAddress(
        resource=resource,
        activity_id=activity_id,
        agent=agent,
        actor=actor,
        document_id=params.get("profileId"),
        since=_since(params, section),
    )


def _check_id(method: Method, params: Mapping[str, str], id_name: str, section: str) -> None:
    if method in ("PUT", "POST") and id_name not in params:
        fail(id_name, f"is required to store a document ({section})")
    if "since" in params and (method not in ("GET", "HEAD") or id_name in params):
        fail("since", f"is only for a GET of all ids ({section})")


def _since(params: Mapping[str, str], section: str) -> datetime | None:
    since = params.get("since")
    return None if since is None else check_timestamp(since, "since", section)

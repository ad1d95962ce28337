"""What a user token may name on `/xapi`: its own learner only (DESIGN "Learner-bound xAPI").

A tenant API key speaks for every learner of its tenant (a server, say an LMS backend); a
user token speaks for one, its `sub`. With one, every statement's actor, every State or Agent
Profile document's agent and every query's agent must map to that userId under the
tenant's `UserRule`; an `account` outside `users.accountHomePages` is refused outright; only
statements stored for that userId may be voided; Activity Profiles (shared by every learner
of the activity) are read-only.
"""

from __future__ import annotations

from typing import Any

from .document_params import DocumentAddress, Method
from .errors import RuleBroken
from .identity import UserRule, user_id_for

__all__ = ["NotTheLearner", "check_document_learner", "check_learner", "check_voidable_by"]

_READS = frozenset({"GET", "HEAD"})


class NotTheLearner(RuleBroken):
    """A user token named someone other than its learner (403); `path` names where."""


def check_learner(agent: dict[str, Any] | None, rule: UserRule, learner: str, path: str) -> None:
    """Raise `NotTheLearner` at `path` unless the (checked) `agent` maps to `learner`."""
    account = (agent or {}).get("account")
    homes = rule.account_home_pages
    if account is not None and homes and account["homePage"] not in homes:
        raise NotTheLearner(
            path, "with a user token, an account must be of the tenant's accountHomePages"
        )
    if agent is None or user_id_for(agent, rule) != learner:
        raise NotTheLearner(path, "a user token may only name its own learner")


def check_voidable_by(target_user: str | None, learner: str, path: str) -> None:
    """Raise `NotTheLearner` unless the voided statement was stored for `learner`."""
    if target_user != learner:
        raise NotTheLearner(path, "a user token may only void its own learner's statements")


def check_document_learner(
    address: DocumentAddress, method: Method, rule: UserRule, learner: str
) -> None:
    """Raise `NotTheLearner` unless a user token of `learner` may do `method` at `address`."""
    if address.resource == "activity_profile":
        if method not in _READS:
            raise NotTheLearner("activityId", "a user token cannot write Activity Profiles")
        return
    check_learner(address.actor, rule, learner, "agent")

"""Who and what a statement is about, as Progress Sync ids: userId and contentId.

A tenant chooses how actors become users (`UserRule`); activity IRIs become contentIds by one
fixed rule, so the same IRI always gives the same contentId.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.domain import is_valid_id
from shared.domain.ids import ID_MAX_LENGTH

__all__ = ["HASH_LENGTH", "UserRule", "content_id_for", "user_id_for"]

HASH_LENGTH = 32
"""Hex digits of SHA-256 that end a contentId made from a too-long IRI."""


class UserRule(BaseModel):
    """A tenant's rule for the userId of a statement's actor (an Agent; Groups map to none).

    The Agent's one Inverse Functional Identifier decides: `account` gives its `name` (when
    `account` is "name" and, if `accountHomePage` is set, the homePage matches it exactly);
    `mbox` gives the address after `mailto:` with the domain lowercased (when `mbox` is
    "address"). `mbox_sha1sum` and `openid` never map. A result that is not a valid userId
    (1-128 printable characters, no whitespace) maps to none.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, validate_by_name=True
    )

    account: Literal["name", "ignore"] = "name"
    account_home_page: str | None = None
    mbox: Literal["address", "ignore"] = "address"


def user_id_for(actor: dict[str, Any], rule: UserRule) -> str | None:
    """The userId a (validated) actor maps to under `rule`, or None if it maps to none."""
    if actor.get("objectType") == "Group":
        return None
    user_id: str | None = None
    account = actor.get("account")
    mbox = actor.get("mbox")
    if account is not None and rule.account == "name":
        home_page = rule.account_home_page
        if home_page is None or account["homePage"] == home_page:
            user_id = account["name"]
    elif mbox is not None and rule.mbox == "address":
        local, _, domain = mbox.removeprefix("mailto:").rpartition("@")
        user_id = f"{local}@{domain.lower()}"
    return user_id if user_id is not None and is_valid_id(user_id) else None


def content_id_for(iri: str) -> str:
    """The contentId of an activity IRI: the IRI itself when it is a valid id, else a stable one.

    A longer IRI (or one with characters an id may not hold) becomes its first printable
    characters, `~`, and the first 32 hex digits of its SHA-256: readable, exactly 128
    characters at most, and the same for the same IRI on every run.
    """
    if is_valid_id(iri):
        return iri
    digest = hashlib.sha256(iri.encode()).hexdigest()[:HASH_LENGTH]
    readable = "".join(char for char in iri if char.isprintable() and not char.isspace())
    return f"{readable[: ID_MAX_LENGTH - HASH_LENGTH - 1]}~{digest}"

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

    The Agent's one Inverse Functional Identifier decides:

    - `account`: with `account` "name", its `name`; with "homePageAndName",
      `<homePage>|<name>` (for tenants whose several systems reuse names). When
      `accountHomePages` lists any, an account of another homePage maps to none.
    - `mbox`: with `mbox` "address", the address after `mailto:`, its domain lowercased;
      with "sha1", the SHA-1 (40 lowercase hex digits) of the `mailto:` IRI as sent.
    - `mbox_sha1sum`: with `mbox` "sha1", its value lowercased, so an Agent known by
      `mbox_sha1sum` is the same user as one known by the `mbox` it hashes; else none.
    - `openid` never maps.

    A result that is not a valid userId (1-128 printable characters, no whitespace) maps to
    none. The rule applies when a statement or State document is stored: the userId is kept
    with it, so changing the rule changes only what is stored afterwards.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, validate_by_name=True
    )

    account: Literal["name", "homePageAndName", "ignore"] = "name"
    account_home_pages: tuple[str, ...] = ()
    """The homePages whose accounts map; empty: any homePage."""
    mbox: Literal["address", "sha1", "ignore"] = "address"


def user_id_for(actor: dict[str, Any], rule: UserRule) -> str | None:
    """The userId a (validated) actor maps to under `rule`, or None if it maps to none."""
    if actor.get("objectType") == "Group":
        return None
    user_id = _account_user(actor["account"], rule) if "account" in actor else None
    if "mbox" in actor:
        user_id = _mbox_user(actor["mbox"], rule)
    elif "mbox_sha1sum" in actor and rule.mbox == "sha1":
        user_id = str(actor["mbox_sha1sum"]).lower()
    return user_id if user_id is not None and is_valid_id(user_id) else None


def _account_user(account: dict[str, Any], rule: UserRule) -> str | None:
    home_page, name = account["homePage"], account["name"]
    if rule.account_home_pages and home_page not in rule.account_home_pages:
        return None
    if rule.account == "name":
        return str(name)
    if rule.account == "homePageAndName":
        return f"{home_page}|{name}"
    return None


def _mbox_user(mbox: str, rule: UserRule) -> str | None:
    if rule.mbox == "address":
        local, _, domain = mbox.removeprefix("mailto:").rpartition("@")
        return f"{local}@{domain.lower()}"
    if rule.mbox == "sha1":
        return hashlib.sha1(mbox.encode(), usedforsecurity=False).hexdigest()
    return None


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

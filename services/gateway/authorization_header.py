"""Reading the `Authorization` header: the one parser of its schemes, for every route.

Native routes take `Bearer <API key or user token>`; xAPI routes also take `Basic <id:key>`
(the xAPI spec's credentials). What the header says is read here; which schemes a route
accepts and what it answers for the others stay with the route.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

__all__ = [
    "BasicCredentials",
    "BearerCredentials",
    "Credentials",
    "MalformedBasic",
    "parse_authorization",
]


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """`Basic base64(id:key)`: an API key's id and the key itself."""

    key_id: str
    key: str


@dataclass(frozen=True, slots=True)
class BearerCredentials:
    """`Bearer <credential>`: a tenant API key or a user token (a JWT)."""

    credential: str

    @property
    def is_user_token(self) -> bool:
        """True for a JWT (three dot-separated parts), False for an API key."""
        return self.credential.count(".") == 2


Credentials = BasicCredentials | BearerCredentials


class MalformedBasic(ValueError):
    """A `Basic` header whose credentials are not base64 of `id:key`."""


def parse_authorization(header: str | None) -> Credentials | None:
    """What the header carries; None when it is missing, of another scheme or empty.

    The scheme is matched without regard to case and the credential is stripped.

    Raises:
        MalformedBasic: for `Basic` credentials that do not decode to `id:key`.
    """
    scheme, _, credential = (header or "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "basic":
        try:
            key_id, found, key = base64.b64decode(credential, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            found = ""
        if not found:
            raise MalformedBasic("Basic credentials must be id:key")
        return BasicCredentials(key_id=key_id, key=key)
    if scheme.lower() == "bearer" and credential:
        return BearerCredentials(credential)
    return None

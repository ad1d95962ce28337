"""A tenant's xAPI profile: its mapping rules and the version it answers versionless requests in.

Stored with the tenant (`progressctl tenant xapi`) and read by the gateway per request; the
defaults serve a tenant that never set one.
"""

from __future__ import annotations

from .formats import XapiVersion
from .progress import MappingRules

__all__ = ["XapiProfile"]


class XapiProfile(MappingRules):
    """The tenant's `MappingRules` plus `default_version` and `require_verified_signatures`.

    `default_version` is the `X-Experience-API-Version` of an answer to a request that names
    no supported version (its `400`, Communication 3.3): each version's specification has
    the LRS answer with its own, so a tenant whose content speaks 1.0.3 picks `1.0.3`.
    """

    default_version: XapiVersion = "2.0.0"
    require_verified_signatures: bool = False
    """Refuse (400) a signed statement whose JWS has no `x5c` certificate to verify it with."""

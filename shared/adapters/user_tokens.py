"""User tokens: HS256 JWTs that let one user of one tenant call the API for themselves.

The gateway verifies them (`services.gateway.auth`); this module makes them, for operators
(`progressctl token`) and as the reference for tenants' own backends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

from shared.domain.ids import is_valid_id

__all__ = ["mint_user_token"]


def mint_user_token(
    secret: str, tenant_id: str, user_id: str, ttl: timedelta, now: datetime
) -> str:
    """Sign a user token with the tenant's secret.

    Pure: the clock is an argument, so the same inputs give the same token.

    Args:
        secret: The tenant's current signing secret.
        tenant_id: The `tid` claim.
        user_id: The `sub` claim: the only user the token may read and write.
        ttl: How long the token is valid after `now`.
        now: The issue time (`iat`); a timezone-aware datetime.

    Returns:
        The compact JWT.

    Raises:
        ValueError: If `user_id` is not a valid userId, `ttl` is not positive, or `now`
            is naive.
    """
    if not is_valid_id(user_id):
        raise ValueError(f"invalid user id {user_id!r}")
    if ttl <= timedelta(0):
        raise ValueError("a user token's lifetime must be positive")
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    claims = {"sub": user_id, "tid": tenant_id, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")

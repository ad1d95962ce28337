"""User tokens minted by an app's backend: HS256 JWTs as the server checks them.

HS256 is an HMAC-SHA256 over two base64url JSON parts, which the standard library does in a
few lines; that keeps this client's dependencies at httpx and pydantic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

__all__ = ["mint_user_token"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_user_token(
    secret: str | bytes, tenant: str, user: str, ttl: timedelta | float = 3600.0
) -> str:
    """A user token for `user` of `tenant`, valid for `ttl` (seconds or a timedelta).

    Claims: `sub` (userId), `tid` (tenantId), `iat` (now) and `exp` (now + ttl), signed with
    the tenant's signing secret. Such a token may read and write only its own user.

    Raises:
        ValueError: If `ttl` is not positive.
    """
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    if seconds <= 0:
        raise ValueError("ttl must be positive")
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": user, "tid": tenant, "iat": now, "exp": now + int(seconds)}
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"

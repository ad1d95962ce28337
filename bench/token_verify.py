"""User-token verification cost: the gateway's `authenticate` over 10,000 warm verifications.

In process, with every credential already cached (the tenant's secret, the trusted issuer,
its parsed key set), so the figure is what verifying adds to a request: HS256 beside RS256
and ES256 tokens of a trusted issuer. Each call is timed in the calling thread's CPU time
(and, beside it, wall time), so other processes on a shared machine do not count as cost.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from services.gateway.auth import authenticate
from shared.adapters.issuer_records import TrustedIssuer
from shared.adapters.jwks import JwksCache
from shared.adapters.user_tokens import mint_user_token
from shared.domain.tenants import ApiKeyGrant
from tests.support.key_server import signing_key

__all__ = ["run"]

VERIFICATIONS = 10_000
_SECRET = "bench-signing-secret-0123456789-abcdefgh"
_ISSUER = "https://idp.bench.example/"
_AUDIENCE = "bench-app"
_LIFETIME = 86_400


class _WarmCredentials:
    """A credential source whose every answer is already at hand, as a warm gateway's is."""

    clock_skew_seconds = 30

    def __init__(self, issuer: TrustedIssuer) -> None:
        self._issuer = issuer
        self._keys = JwksCache(
            timeout=1.0,
            max_bytes=65_536,
            default_ttl=900.0,
            refresh_interval=60.0,
            allow_loopback_http=False,
        )

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        return None

    async def signing_secret(self, tenant_id: str) -> str | None:
        return _SECRET

    async def issuers_named(self, issuer: str) -> Sequence[TrustedIssuer]:
        return (self._issuer,)

    async def issuer_key(self, issuer: TrustedIssuer, kid: str | None, algorithm: str) -> jwt.PyJWK:
        return await self._keys.key(issuer, kid, algorithm)


async def _p99_ms(header: str, credentials: _WarmCredentials) -> dict[str, float]:
    for _ in range(100):
        await authenticate(header, credentials, _LIFETIME)
    cpu, wall = [], []
    for _ in range(VERIFICATIONS):
        started, started_wall = time.thread_time_ns(), time.perf_counter_ns()
        await authenticate(header, credentials, _LIFETIME)
        cpu.append((time.thread_time_ns() - started) / 1e6)
        wall.append((time.perf_counter_ns() - started_wall) / 1e6)
    return {
        "p50_ms": statistics.median(cpu),
        "p99_ms": _p99(cpu),
        "wall_p50_ms": statistics.median(wall),
        "wall_p99_ms": _p99(wall),
    }


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(len(ordered) * 0.99) - 1]


def run() -> dict[str, Any]:
    """p50 and p99 of one verification per algorithm, in milliseconds of CPU (and wall)."""
    now = datetime.now(UTC)
    keys = [signing_key("RS256"), signing_key("ES256")]
    issuer = TrustedIssuer(
        tenant_id="bench",
        issuer=_ISSUER,
        audiences=(_AUDIENCE,),
        algorithms=("RS256", "ES256"),
        jwks_json=json.dumps({"keys": [key.public_jwk for key in keys]}),
    )
    credentials = _WarmCredentials(issuer)
    claims = {"iss": _ISSUER, "aud": _AUDIENCE, "sub": "learner-1", "iat": now}
    tokens = {"HS256": mint_user_token(_SECRET, "bench", "learner-1", timedelta(hours=1), now)}
    for key in keys:
        tokens[key.algorithm] = jwt.encode(
            {**claims, "exp": now + timedelta(hours=1)},
            key.private,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )
    return {
        "verifications": VERIFICATIONS,
        **{
            algorithm: asyncio.run(_p99_ms(f"Bearer {token}", credentials))
            for algorithm, token in tokens.items()
        },
    }

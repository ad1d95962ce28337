"""Tokens an app already has, from a real local provider, on the running gateway.

Each test registers its own issuer with `progressctl tenant issuer add` and signs tokens
with the provider's keys; the gateway fetches the public keys over loopback HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.e2e.test_gateway_auth import event
from tests.support.cli import progressctl
from tests.support.key_server import KeyServer, running_key_server, signing_key
from tests.support.services import Stack

pytestmark = pytest.mark.e2e

AUDIENCE = "course-app"


def trust(stack: Stack, server: KeyServer, tenant: str = "demo", *extra: str) -> None:
    """Make `tenant` trust the provider's tokens for AUDIENCE, with all three algorithms."""
    progressctl(
        stack.settings,
        "tenant", "issuer", "add", tenant,
        "--issuer", server.issuer,
        "--audience", AUDIENCE,
        "--jwks-url", server.jwks_url,
        "--algorithms", "RS256,ES256,EdDSA",
        *extra,
    )  # fmt: skip


@pytest.fixture
def provider(stack: Stack) -> Iterator[KeyServer]:
    """A provider with one RS256, one ES256 and one EdDSA key, trusted by `demo`."""
    with running_key_server("RS256", "ES256", "EdDSA") as server:
        trust(stack, server)
        yield server


def call(
    stack: Stack, token: str, user: str, method: str = "GET", body: Any = None
) -> httpx.Response:
    return httpx.request(
        method,
        f"{stack.gateway_url}/v1/users/{quote(user, safe='')}/progress",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )


def refusal(response: httpx.Response) -> tuple[str, str | None]:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    return error["code"], error.get("field")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_a_providers_token_reads_and_writes_its_own_user_only(
    stack: Stack, provider: KeyServer, user_id: str, algorithm: str
) -> None:
    key = next(key for key in provider.keys if key.algorithm == algorithm)
    token = provider.token(key, AUDIENCE, user_id)

    written = call(stack, token, user_id, "PUT", {"events": [event(f"idp-{algorithm}")]})
    read = call(stack, token, user_id)
    other = call(stack, token, f"{user_id}-other")

    assert written.status_code == 202, written.text
    assert read.status_code == 200, read.text
    assert read.json()["snapshot"]["userId"] == user_id
    assert other.status_code == 403, other.text


def test_an_issuer_no_tenant_trusts_is_unknown_issuer(stack: Stack, user_id: str) -> None:
    with running_key_server("RS256") as stranger:
        token = stranger.token(stranger.keys[0], AUDIENCE, user_id)
        assert refusal(call(stack, token, user_id)) == ("unknown_issuer", "iss")
        assert stranger.fetches == 0


def test_a_token_for_another_audience_is_bad_audience(
    stack: Stack, provider: KeyServer, user_id: str
) -> None:
    token = provider.token(provider.keys[0], "another-app", user_id)
    assert refusal(call(stack, token, user_id)) == ("bad_audience", "aud")


def test_expiry_and_not_before_are_judged_with_the_configured_skew(
    stack: Stack, provider: KeyServer, user_id: str
) -> None:
    skew = stack.settings.user_token_clock_skew_seconds
    key = provider.keys[0]
    age = timedelta(minutes=5)
    expired_within_skew = age - timedelta(seconds=skew / 2)
    expired_beyond_skew = age - timedelta(seconds=skew + 30)
    within = provider.token(key, AUDIENCE, user_id, ttl=expired_within_skew, age=age)
    beyond = provider.token(key, AUDIENCE, user_id, ttl=expired_beyond_skew, age=age)

    soon = provider.token(key, AUDIENCE, user_id, nbf=int(time.time()) + skew // 2)
    later = provider.token(key, AUDIENCE, user_id, nbf=int(time.time()) + skew + 60)

    assert call(stack, within, user_id).status_code == 200
    assert refusal(call(stack, beyond, user_id)) == ("expired", "exp")
    assert call(stack, soon, user_id).status_code == 200
    assert refusal(call(stack, later, user_id))[0] == "unauthorized"


def test_unknown_kids_are_unknown_key_and_a_flood_fetches_at_most_once(
    stack: Stack, provider: KeyServer, user_id: str
) -> None:
    known = provider.token(provider.keys[0], AUDIENCE, user_id)
    assert call(stack, known, user_id).status_code == 200
    fetched = provider.fetches

    for index in range(10):
        made_up = {"kid": f"made-up-{index}"}
        answer = call(
            stack, provider.token(provider.keys[0], AUDIENCE, user_id, headers=made_up), user_id
        )
        assert refusal(answer) == ("unknown_key", "kid")

    assert provider.fetches <= fetched + 1


def test_keys_named_by_the_token_itself_are_never_used(
    stack: Stack, provider: KeyServer, user_id: str
) -> None:
    with running_key_server("RS256") as attacker:
        forged = signing_key("RS256", kid=provider.keys[0].kid)
        headers = {"jku": attacker.jwks_url, "x5u": attacker.jwks_url, "jwk": forged.public_jwk}
        attacker.keys = [forged]
        token = provider.token(forged, AUDIENCE, user_id, headers=headers)

        answer = call(stack, token, user_id)

        assert answer.status_code == 401, answer.text
        assert attacker.fetches == 0


def test_alg_none_is_refused(stack: Stack, provider: KeyServer, user_id: str) -> None:
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "sub": user_id, "iat": 1, "exp": 2**40}
    token = jwt.encode(claims, None, algorithm="none")
    assert refusal(call(stack, token, user_id)) == ("unauthorized", "alg")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_hs256_signed_with_the_providers_public_key_is_refused(
    stack: Stack, provider: KeyServer, user_id: str
) -> None:
    secret = (
        provider.keys[0]
        .private.public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": provider.keys[0].kid}).encode())
    body = {"iss": provider.issuer, "aud": AUDIENCE, "sub": user_id, "tid": "demo", "exp": 2**40}
    claims = _b64(json.dumps(body).encode())
    signature = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()

    answer = call(stack, f"{header}.{claims}.{_b64(signature)}", user_id)

    assert refusal(answer) == ("unauthorized", None)


def test_a_token_of_another_tenants_issuer_never_reaches_this_tenant(
    stack: Stack, user_id: str
) -> None:
    other = f"idp-{uuid.uuid4().hex[:8]}"
    progressctl(stack.settings, "tenant", "create", other)
    with running_key_server("ES256") as theirs:
        trust(stack, theirs, other)
        key = theirs.keys[0]
        claiming_demo = theirs.token(key, AUDIENCE, user_id, tid="demo")
        their_own = theirs.token(key, AUDIENCE, user_id)

        assert refusal(call(stack, claiming_demo, user_id)) == ("unknown_issuer", "iss")
        answer = call(stack, their_own, user_id)
        assert answer.status_code == 200, answer.text
        assert answer.json()["snapshot"]["tenantId"] == other


def test_a_subject_that_is_not_a_valid_user_id_is_refused(
    stack: Stack, provider: KeyServer
) -> None:
    token = provider.token(provider.keys[0], AUDIENCE, "two words")
    assert refusal(call(stack, token, "two words")) == ("unauthorized", "sub")


def test_the_user_prefix_keeps_issuers_users_apart(stack: Stack, user_id: str) -> None:
    with running_key_server("EdDSA") as server:
        trust(stack, server, "demo", "--user-prefix", "lms:")
        token = server.token(server.keys[0], AUDIENCE, user_id)

        assert call(stack, token, f"lms:{user_id}").status_code == 200
        assert call(stack, token, user_id).status_code == 403


def test_claims_of_odd_types_are_judged_not_crashed_on(
    stack: Stack, provider: KeyServer, user_id: str
) -> None:
    key, now = provider.keys[0], int(time.time())
    nested_audience = provider.token(key, [[AUDIENCE]], user_id)  # type: ignore[list-item]
    numeric_audience = provider.token(key, 5, user_id)  # type: ignore[arg-type]
    string_times = provider.token(key, AUDIENCE, user_id, iat=str(now), exp=str(now + 600))

    assert refusal(call(stack, nested_audience, user_id)) == ("bad_audience", "aud")
    assert refusal(call(stack, numeric_audience, user_id)) == ("bad_audience", "aud")
    assert call(stack, string_times, user_id).status_code == 200


def test_a_provider_never_reached_is_503_issuer_unavailable(stack: Stack, user_id: str) -> None:
    with running_key_server("RS256") as server:
        server.failing = True
        trust(stack, server)
        answer = call(stack, server.token(server.keys[0], AUDIENCE, user_id), user_id)

    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "issuer_unavailable"
    assert int(answer.headers["Retry-After"]) > 0

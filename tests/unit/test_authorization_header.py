"""The one parser of the Authorization header, and the native and xAPI routes reading it."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import jwt
import pytest

from services.gateway.auth import authenticate
from services.gateway.authorization_header import (
    BasicCredentials,
    BearerCredentials,
    MalformedBasic,
    parse_authorization,
)
from services.gateway.errors import ApiError
from services.gateway.xapi_http import xapi_credential
from shared.adapters.issuer_records import TrustedIssuer
from shared.domain.tenants import ApiKeyGrant

_KEY = "ps_live_key"
_GRANT = ApiKeyGrant(tenant_id="acme", scopes=frozenset({"read", "write"}), key_id="key-1")


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


class _OneKey:
    """A credential source that knows one API key and nothing else."""

    clock_skew_seconds = 0

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        return _GRANT if api_key == _KEY else None

    async def signing_secret(self, tenant_id: str) -> str | None:
        return None

    async def issuers_named(self, issuer: str) -> Sequence[TrustedIssuer]:
        return []

    async def issuer_key(self, issuer: TrustedIssuer, kid: str | None, algorithm: str) -> jwt.PyJWK:
        raise AssertionError("no issuer is trusted")


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        (f"Bearer {_KEY}", BearerCredentials(_KEY)),
        (f"bearer   {_KEY}  ", BearerCredentials(_KEY)),
        ("Bearer a.b.c", BearerCredentials("a.b.c")),
        (_basic(f"key-1:{_KEY}"), BasicCredentials("key-1", _KEY)),
        (_basic("key-1:with:colons"), BasicCredentials("key-1", "with:colons")),
        ("BASIC " + base64.b64encode(b":").decode(), BasicCredentials("", "")),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer    ", None),
        ("Token abc", None),
    ],
)
def test_the_header_is_read_into_its_scheme_and_credentials(
    header: str | None, parsed: BasicCredentials | BearerCredentials | None
) -> None:
    assert parse_authorization(header) == parsed


@pytest.mark.parametrize(
    "header", ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic /w=="]
)
def test_basic_credentials_that_are_not_base64_of_id_and_key_are_malformed(header: str) -> None:
    with pytest.raises(MalformedBasic, match="id:key"):
        parse_authorization(header)


def test_a_bearer_credential_with_three_parts_is_a_user_token() -> None:
    assert BearerCredentials("a.b.c").is_user_token
    assert not BearerCredentials(_KEY).is_user_token


async def test_native_and_xapi_routes_read_one_bearer_key_alike() -> None:
    native = await authenticate(f"Bearer {_KEY}", _OneKey(), 3600)
    xapi = await xapi_credential(f"Bearer {_KEY}", 3600, _OneKey())
    assert (native.tenant_id, native.user_id) == ("acme", None)
    assert xapi == _GRANT


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Authorization header"),
        (_basic(f"key-1:{_KEY}"), "must be 'Bearer <token>'"),
        ("Basic !!!", "must be 'Bearer <token>'"),
        ("Bearer ", "must be 'Bearer <token>'"),
        ("Bearer unknown", "unknown API key"),
        ("Bearer not.a.jwt", "user token is invalid"),
    ],
)
async def test_native_routes_take_only_bearer(header: str | None, message: str) -> None:
    with pytest.raises(ApiError, match=message) as refused:
        await authenticate(header, _OneKey(), 3600)
    assert refused.value.status == 401
    assert refused.value.headers == {"WWW-Authenticate": "Bearer"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "send HTTP Basic"),
        ("Token abc", "send HTTP Basic"),
        ("Basic !!!", "Basic credentials must be id:key"),
        (_basic(f"key-2:{_KEY}"), "unknown API key id or key"),
        (_basic("key-1:wrong"), "unknown API key id or key"),
        ("Bearer not.a.jwt", "user token is invalid"),
    ],
)
async def test_xapi_routes_take_basic_and_bearer(header: str | None, message: str) -> None:
    with pytest.raises(ApiError, match=message) as refused:
        await xapi_credential(header, 3600, _OneKey())
    assert refused.value.status == 401


async def test_xapi_basic_names_the_key_id_it_was_issued_with() -> None:
    assert await xapi_credential(_basic(f"key-1:{_KEY}"), 3600, _OneKey()) == _GRANT

"""Forged and fuzzed user tokens: the attacks on a trusted identity provider's tokens.

The chaos stack's `demo` tenant trusts one issuer (`CHAOS_ISSUER`) whose key set is given
inline, so its key is known here: the fuzzer sends valid tokens of it, the named forgeries
(`alg: none`, HS256 signed with the public key, keys named by `jku`, `x5u` or `jwk`
headers, a token of an untrusted issuer) and JWT-shaped strings with hostile headers and
claims. A forgery must be answered 401, never accepted, and nothing may answer 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import strategies as st

from chaos.fuzz_bodies import fuzz_text
from shared.adapters.issuer_records import TrustedIssuer
from shared.adapters.issuers import MongoIssuerStore
from shared.adapters.mongo import Document, mongo_client
from shared.adapters.settings import Settings
from tests.support.key_server import SigningKey, signing_key

__all__ = ["CHAOS_AUDIENCE", "CHAOS_ISSUER", "ChaosIdentity", "fuzzed_tokens"]

CHAOS_ISSUER = "https://chaos-idp.example/"
CHAOS_AUDIENCE = "chaos-app"
_LIFETIME = timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims, default=str).encode())
    return f"{head}.{body}.{_b64(signature)}"


@dataclass
class ChaosIdentity:
    """The chaos provider's key (trusted by `demo`) and an attacker's key (trusted by none)."""

    key: SigningKey = field(default_factory=lambda: signing_key("RS256"))
    attacker: SigningKey = field(default_factory=lambda: signing_key("RS256"))

    async def register(self, settings: Settings) -> None:
        """Make `demo` trust the chaos issuer, with its public key set inline."""
        client = mongo_client(settings)
        store = MongoIssuerStore(client[settings.mongo_database])
        trusted = TrustedIssuer(
            tenant_id="demo",
            issuer=CHAOS_ISSUER,
            audiences=(CHAOS_AUDIENCE,),
            algorithms=("RS256",),
            jwks_json=json.dumps({"keys": [self.key.public_jwk]}),
        )
        try:
            await store.add(trusted)
        finally:
            await client.close()

    def claims(self, user: str, **extra: Any) -> dict[str, Any]:
        """The chaos issuer's claims for `user`, valid for an hour; `extra` overrides them."""
        now = datetime.now(UTC)
        return {
            "iss": CHAOS_ISSUER,
            "aud": CHAOS_AUDIENCE,
            "sub": user,
            "iat": int(now.timestamp()),
            "exp": int((now + _LIFETIME).timestamp()),
            **extra,
        }

    def valid(self, user: str) -> str:
        """A token of the trusted issuer for `user`: must be accepted for that user."""
        return jwt.encode(
            self.claims(user), self.key.private, algorithm="RS256", headers={"kid": self.key.kid}
        )

    def forgeries(self, user: str) -> dict[str, str]:
        """Each named attack as a token for `user`; every one must be answered 401."""
        public_pem = self.key.private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
        hs_header = {"alg": "HS256", "typ": "JWT", "kid": self.key.kid}
        hs_claims = self.claims(user, tid="demo")
        signing_input = _unsigned(hs_header, hs_claims).rsplit(".", 1)[0]
        hs_signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        by_attacker = {
            "kid": self.key.kid,
            "jku": "https://attacker.example/jwks",
            "x5u": "https://attacker.example/cert.pem",
            "jwk": self.attacker.public_jwk,
        }
        return {
            "token with alg none": _unsigned({"alg": "none", "typ": "JWT"}, self.claims(user)),
            "token HS256-signed with the issuer's public key": f"{signing_input}."
            + _b64(hs_signature),
            "token signed by a key its jku/x5u/jwk headers name": jwt.encode(
                self.claims(user), self.attacker.private, algorithm="RS256", headers=by_attacker
            ),
            "token of an issuer no tenant trusts": jwt.encode(
                self.claims(user, iss="https://attacker.example/"),
                self.attacker.private,
                algorithm="RS256",
                headers={"kid": self.attacker.kid},
            ),
            "token for another audience": jwt.encode(
                self.claims(user, aud="another-app"),
                self.key.private,
                algorithm="RS256",
                headers={"kid": self.key.kid},
            ),
            "token claiming another tenant": jwt.encode(
                self.claims(user, tid="acme"),
                self.key.private,
                algorithm="RS256",
                headers={"kid": self.key.kid},
            ),
        }


_HOSTILE = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | fuzz_text
    | st.lists(fuzz_text, max_size=4)
    | st.dictionaries(fuzz_text, fuzz_text, max_size=3)
)


@st.composite
def fuzzed_tokens(draw: st.DrawFn, identity: ChaosIdentity) -> str:
    """A JWT-shaped string: the chaos issuer's claims and header with hostile values mixed in."""
    header: dict[str, Any] = {"alg": draw(st.sampled_from(["RS256", "ES256", "EdDSA", "none"]))}
    header["kid"] = draw(st.just(identity.key.kid) | _HOSTILE)
    claims: Document = identity.claims("fuzz-user")
    for name in draw(st.lists(st.sampled_from([*sorted(claims), "nbf", "tid"]))):
        claims[name] = draw(_HOSTILE)
    for name in draw(st.lists(st.sampled_from(["jku", "x5u", "jwk", "crit", "typ"]))):
        header[name] = draw(_HOSTILE)
    signature = draw(st.binary(max_size=300))
    return _unsigned(header, claims, signature)

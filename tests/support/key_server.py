"""A small OpenID-style identity provider on loopback: signing keys, a JWKS endpoint, faults.

It signs tokens with RS256, ES256 or EdDSA keys and serves their public halves at `/jwks`.
Tests rotate the keys, make the endpoint fail, answer slowly or hugely, and count the
fetches, so the gateway's key handling is proven against real HTTP, not a mock.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

__all__ = ["KeyServer", "SigningKey", "running_key_server", "signing_key"]

_PRIVATE_KEYS: dict[str, Callable[[], Any]] = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}
_TO_JWK: dict[str, Callable[..., Any]] = {
    "RS256": RSAAlgorithm.to_jwk,
    "ES256": ECAlgorithm.to_jwk,
    "EdDSA": OKPAlgorithm.to_jwk,
}


@dataclass(frozen=True)
class SigningKey:
    """A provider's private key, its `kid` and the public JWK it publishes."""

    kid: str
    algorithm: str
    private: Any = field(repr=False)
    public_jwk: dict[str, Any]


def signing_key(algorithm: str = "RS256", kid: str | None = None) -> SigningKey:
    """A fresh key pair for `algorithm` (RS256, ES256 or EdDSA)."""
    private = _PRIVATE_KEYS[algorithm]()
    kid = kid or f"{algorithm.lower()}-{uuid.uuid4().hex[:8]}"
    public = _TO_JWK[algorithm](private.public_key(), as_dict=True)
    return SigningKey(kid, algorithm, private, {**public, "kid": kid, "use": "sig"})


@dataclass
class KeyServer:
    """The provider's state: what `/jwks` answers and how; every field may change mid-test."""

    issuer: str
    port: int = 0
    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0
    failing: bool = False
    delay_seconds: float = 0.0
    padding_bytes: int = 0
    cache_control: str = "max-age=300"

    @property
    def jwks_url(self) -> str:
        """Where the public keys are published."""
        return f"http://127.0.0.1:{self.port}/jwks"

    def jwks(self) -> dict[str, Any]:
        """The published key set (with `padding_bytes` of filler, for a huge answer)."""
        document: dict[str, Any] = {"keys": [key.public_jwk for key in self.keys]}
        if self.padding_bytes:
            document["padding"] = "x" * self.padding_bytes
        return document

    def token(
        self,
        key: SigningKey,
        audience: str | list[str],
        subject: str,
        *,
        ttl: timedelta = timedelta(minutes=10),
        age: timedelta = timedelta(0),
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token of this issuer, signed with `key` (extra claims override the defaults)."""
        issued = datetime.now(UTC) - age
        body = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "iat": issued,
            "exp": issued + ttl,
            **claims,
        }
        return jwt.encode(
            body, key.private, algorithm=key.algorithm, headers={"kid": key.kid, **(headers or {})}
        )


def _handler(server: KeyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.fetches += 1
            if server.delay_seconds:
                time.sleep(server.delay_seconds)
            if self.path != "/jwks" or server.failing:
                self.send_response(503 if server.failing else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.dumps(server.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", server.cache_control)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_key_server(*algorithms: str) -> Iterator[KeyServer]:
    """A provider on a free loopback port publishing one key per algorithm given."""
    state = KeyServer(issuer=f"https://idp-{uuid.uuid4().hex[:8]}.example")
    state.keys = [signing_key(algorithm) for algorithm in algorithms]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()

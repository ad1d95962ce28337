"""Signed statements as a content vendor makes them: an RSA key, its certificate, a JWS."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.api_jws import PyJWS

from shared.xapi import StatementBody, write_multipart
from shared.xapi.parts import SIGNATURE_USAGE

__all__ = ["SIGNATURE_USAGE", "jws", "signed_body", "signer"]


@cache
def signer(name: str) -> tuple[rsa.RSAPrivateKey, str]:
    """An RSA key and its self-signed certificate (base64 DER, as `x5c` holds it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return key, base64.b64encode(der).decode()


def jws(
    payload: dict[str, Any], alg: str = "RS256", signed_by: str = "vendor", **header: Any
) -> bytes:
    """A compact JWS of `payload`, signed with `signed_by`'s key (HS256: a shared secret)."""
    key: Any = b"a shared secret of thirty-two bytes!" if alg == "HS256" else signer(signed_by)[0]
    token = PyJWS().encode(json.dumps(payload).encode(), key, alg, headers=header or None)
    return token.encode()


def signed_body(signed: dict[str, Any], token: bytes) -> StatementBody:
    """The statement `signed` as sent: its signature attachment's metadata and data."""
    sent = copy.deepcopy(signed)
    sent["attachments"] = [
        {
            "usageType": SIGNATURE_USAGE,
            "display": {"en-US": "Signature"},
            "contentType": "application/octet-stream",
            "length": len(token),
            "sha2": hashlib.sha256(token).hexdigest(),
        }
    ]
    return StatementBody(sent, {hashlib.sha256(token).hexdigest(): token})


def signed_multipart(body: StatementBody) -> tuple[str, bytes]:
    """The statement and its signature as one `multipart/mixed` request body."""
    statement = body.statements
    assert isinstance(statement, dict)
    parts = [(sha2, "application/octet-stream", data) for sha2, data in body.attachments.items()]
    return write_multipart(json.dumps(statement).encode(), parts)

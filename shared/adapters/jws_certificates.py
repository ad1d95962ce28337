"""RSA checks of signed statements: the JWS signature against its `x5c` certificate.

Data 2.6.s5.b3.b3: when the JWS header has an X.509 chain (`x5c`, RFC 7515 4.1.6: standard
base64 DER certificates, the signer's first), the LRS verifies the signature with the first
certificate's public key. The chain itself is not validated against any trust root: the
specification treats a signature as a check of integrity and origin claims, not as
authentication, and an LRS has no root store to judge a content vendor's certificate by.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.api_jws import PyJWS

from shared.xapi import SignedStatement

__all__ = ["X5cSignatureVerifier"]

_MAX_CHAIN = 10
"""Certificates an `x5c` may list; only the first is used, the rest are only looked at."""


class X5cSignatureVerifier:
    """Verifies a JWS (RS256/384/512, already checked) with its first `x5c` certificate."""

    def __init__(self) -> None:
        self._jws = PyJWS()

    def problem(self, signed: SignedStatement) -> str | None:
        """Why the signature does not hold (Data 2.6.s5.b3.b3), or None (also without `x5c`)."""
        chain = signed.header.get("x5c")
        if chain is None:
            return None
        if not isinstance(chain, list) or not chain or len(chain) > _MAX_CHAIN:
            return f"the JWS x5c must be a list of 1 to {_MAX_CHAIN} certificates (RFC 7515 4.1.6)"
        first = chain[0]
        if not isinstance(first, str):
            return "the JWS x5c certificates must be base64 strings (RFC 7515 4.1.6)"
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(first, validate=True))
        except (binascii.Error, ValueError):
            return "the first JWS x5c certificate is not a base64 DER X.509 certificate"
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            return "the first JWS x5c certificate does not hold an RSA key (Data 2.6.s4.b4)"
        algorithm = self._jws.get_algorithm_by_name(str(signed.header["alg"]))
        if not algorithm.verify(signed.signing_input, key, signed.signature):
            return "the JWS signature does not verify with its x5c certificate (Data 2.6.s5.b3.b3)"
        return None

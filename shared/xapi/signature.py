"""The checks of a signed statement's JWS (Data 2.6) that need no cryptography.

Data 2.6.s5.b3: decode the JWS, read the statement it signed, check it is the same statement
as the one received and that the algorithm is RS256, RS384 or RS512. The comparison follows
the Statement Comparison Requirements: besides what `same_statement` ignores, `timestamp` and
`attachments` are ignored whole. Checking the signature against an `x5c` certificate
(2.6.s5.b3.b3) needs RSA, so the service layer hands `SignedStatement` to its
`SignatureVerifier` port.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from .equivalence import same_statement
from .errors import InvalidStatement
from .json_bounds import check_depth
from .parts import SIGNATURE_USAGE

__all__ = ["ALGORITHMS", "SignedStatement", "check_signature", "signature_attachment"]

ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
"""The JWS algorithms a statement signature may use (Data 2.6.s4.b4)."""
_IGNORED = ("timestamp", "attachments")
"""Compared by neither side: the Statement Comparison Requirements ignore them."""


@dataclass(frozen=True)
class SignedStatement:
    """A decoded compact JWS.

    Attributes:
        header: The protected header (`alg`, maybe `x5c`).
        payload: The statement that was signed.
        signing_input: `header.payload` as sent, the bytes an RSA check verifies.
        signature: The decoded signature bytes.
    """

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def checkable(self) -> bool:
        """Whether the header carries an `x5c` chain, the only key an LRS can check it with."""
        return "x5c" in self.header


def signature_attachment(statement: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The index and metadata of the statement's signature attachment, if it has one."""
    for position, attachment in enumerate(statement.get("attachments", [])):
        if attachment["usageType"] == SIGNATURE_USAGE:
            return position, attachment
    return None


def check_signature(statement: dict[str, Any], jws: bytes) -> SignedStatement:
    """Check the JWS attached to a (validated) statement, as Data 2.6.s5.b3 requires.

    Args:
        statement: The statement received, its signature attachment included.
        jws: The attachment's content (JWS compact serialization).

    Raises:
        InvalidStatement: At `attachments[i]` (the signature's index): not a compact JWS, a
            header or payload that is not JSON, an algorithm other than RS256/384/512, or a
            payload that is not the same statement as the one received (2.6.s4.b3).
    """
    found = signature_attachment(statement)
    if found is None:
        raise InvalidStatement("attachments", "has no signature attachment (Data 2.6.s4.b1)")
    position, _ = found
    path = f"attachments[{position}]"
    parts = jws.strip().split(b".")
    if len(parts) != 3:
        raise InvalidStatement(path, "the signature is not a compact JWS (Data 2.6.s4.b2)")
    header = _json_part(parts[0], path, "header")
    payload = _json_part(parts[1], path, "payload")
    if header.get("alg") not in ALGORITHMS:
        raise InvalidStatement(path, "the JWS must use RS256, RS384 or RS512 (Data 2.6.s4.b4)")
    unsigned = {key: value for key, value in statement.items() if key not in _IGNORED}
    signed = {key: value for key, value in payload.items() if key not in _IGNORED}
    try:
        same = same_statement(unsigned, signed)
    except (KeyError, TypeError, AttributeError):
        same = False
    if not same:
        raise InvalidStatement(
            path, "the JWS payload is not the statement received (Data 2.6.s5.b3.b2)"
        )
    return SignedStatement(header, payload, parts[0] + b"." + parts[1], _decode(parts[2], path))


def _decode(part: bytes, path: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidStatement(path, "the JWS is not base64url (Data 2.6.s4.b2)") from None


def _json_part(part: bytes, path: str, name: str) -> dict[str, Any]:
    text = _decode(part, path)
    check_depth(text, path, f"the JWS {name}")
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidStatement(path, f"the JWS {name} is not JSON (Data 2.6.s5.b3.b1)") from None
    if not isinstance(value, dict):
        raise InvalidStatement(path, f"the JWS {name} is not a JSON object (Data 2.6.s5.b3.b1)")
    return value

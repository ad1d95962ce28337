"""Signed statements (Data 2.6): the checks of a JWS that need no cryptography."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from shared.xapi import InvalidStatement, check_signature, validate_statement

from .statements import statement

SIGNATURE = {
    "usageType": "http://adlnet.gov/expapi/attachments/signature",
    "display": {"en-US": "Signature"},
    "contentType": "application/octet-stream",
    "length": 4235,
    "sha2": "b" * 64,
}


def b64(value: Any) -> bytes:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def jws(payload: Any, alg: str = "RS256") -> bytes:
    return b".".join([b64({"alg": alg, "x5c": ["MIIB..."]}), b64(payload), b64(b"\x01\x02")])


def signed() -> tuple[dict[str, Any], dict[str, Any]]:
    original = statement()
    received = copy.deepcopy(original)
    received["attachments"].append(SIGNATURE)
    return original, validate_statement(received)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_well_formed_signature_is_accepted(alg: str) -> None:
    """XAPI-00117 Data 2.6.s4.b4, s5.b3: RSA algorithms; payload = the statement received."""
    original, received = signed()
    decoded = check_signature(received, jws(original, alg))
    assert decoded.header["alg"] == alg
    assert decoded.signature == b"\x01\x02"
    assert decoded.signing_input.count(b".") == 1


def test_other_algorithm_is_refused() -> None:
    """XAPI-00117 Data 2.6.s4.b4: HS256 and the like are refused."""
    original, received = signed()
    with pytest.raises(InvalidStatement) as raised:
        check_signature(received, jws(original, "HS256"))
    assert raised.value.path == "attachments[1]"


@pytest.mark.parametrize(
    "token",
    [b"not a jws", b"a.b", b64(b"{") + b"." + b64({"a": 1}) + b".c", jws([1, 2])],
    ids=["no dots", "two parts", "header not JSON", "payload not an object"],
)
def test_malformed_jws_is_refused(token: bytes) -> None:
    """XAPI-00115 Data 2.6.s5.b1: a malformed signature is a 400."""
    _, received = signed()
    with pytest.raises(InvalidStatement):
        check_signature(received, token)


def test_payload_must_be_the_statement_received() -> None:
    """XAPI-00116 Data 2.6.s4.b3, s5.b3.b2: the signed statement is the one received."""
    original, received = signed()
    original["result"]["score"]["raw"] = 9
    with pytest.raises(InvalidStatement) as raised:
        check_signature(received, jws(original))
    assert "not the statement received" in raised.value.rule
    other_id = {**statement(), "id": "0b3c6a8e-6b5e-4f3e-9f53-7c1e3a0f0c11"}
    with pytest.raises(InvalidStatement):
        check_signature(received, jws(other_id))


def test_statement_without_signature_attachment() -> None:
    with pytest.raises(InvalidStatement) as raised:
        check_signature(validate_statement(statement()), jws(statement()))
    assert raised.value.path == "attachments"

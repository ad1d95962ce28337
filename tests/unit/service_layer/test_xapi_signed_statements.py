"""Signed statements (Data 2.6) through the Statement resource's writes, with real RSA.

Each test makes its own RSA key and self-signed certificate, signs a statement as a content
vendor would (a compact JWS, the certificate in `x5c`) and sends it as an attachment.
Requirements: XAPI-00115 (a JWS), XAPI-00116 (its payload is the statement), XAPI-00117
(RS256/384/512) and Data 2.6.s5.b3.b3 (the signature verifies with the x5c certificate).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared.xapi import InvalidStatement, StatementBody, parse_statement_query
from tests.support.xapi_signing import SIGNATURE_USAGE, jws, signed_body, signer
from tests.unit.service_layer.xapi_world import ID_1, World, statement

pytestmark = pytest.mark.unit


async def send(world: World, body: StatementBody) -> list[str]:
    written = await world.writes.store(
        "demo",
        body,
        version="1.0.3",
        authority={"mbox": "mailto:lrs@example.com"},
        request_id="r",
        rules=world.rules,
        charge=world.charge,
    )
    return written.ids


async def refused(body: StatementBody) -> InvalidStatement:
    world = World()
    with pytest.raises(InvalidStatement) as raised:
        await send(world, body)
    assert world.store.statements == {}
    return raised.value


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
async def test_a_statement_signed_with_its_x5c_certificate_is_stored(alg: str) -> None:
    """XAPI-00117 and Data 2.6.s5.b3.b3: a valid signature that verifies is stored as sent."""
    world, original = World(), statement()
    token = jws(original, alg, x5c=[signer("vendor")[1]])
    assert await send(world, signed_body(original, token)) == [ID_1]
    found = await world.reads.one("demo", parse_statement_query({"statementId": ID_1}))
    assert found is not None
    assert found.statement["attachments"][0]["usageType"] == SIGNATURE_USAGE


async def test_a_signature_without_x5c_is_checked_for_structure_only() -> None:
    """Data 2.6.s5.b3: without a certificate the LRS cannot know the key; the rest holds."""
    world, original = World(), statement()
    assert await send(world, signed_body(original, jws(original))) == [ID_1]


async def test_a_tampered_payload_is_refused() -> None:
    """XAPI-00116 (Data 2.6.s4.b3, s5.b3.b2): the JWS signs another statement than sent."""
    original = statement()
    tampered = {**original, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}}
    error = await refused(signed_body(original, jws(tampered, x5c=[signer("vendor")[1]])))
    assert error.path == "[0].attachments[0]"
    assert "not the statement received" in error.rule


async def test_another_algorithm_is_refused() -> None:
    """XAPI-00117 (Data 2.6.s4.b4): HS256 is not an allowed algorithm."""
    original = statement()
    error = await refused(signed_body(original, jws(original, "HS256")))
    assert "RS256, RS384 or RS512" in error.rule


async def test_a_signature_the_x5c_certificate_does_not_verify_is_refused() -> None:
    """Data 2.6.s5.b3.b3: signed with one key, the x5c names another: 400."""
    original = statement()
    token = jws(original, signed_by="impostor", x5c=[signer("vendor")[1]])
    error = await refused(signed_body(original, token))
    assert "does not verify with its x5c certificate" in error.rule


async def test_a_changed_signature_is_refused() -> None:
    """Data 2.6.s5.b3.b3: the right certificate, but the signature bytes were altered."""
    original = statement()
    header, payload, signature = jws(original, x5c=[signer("vendor")[1]]).split(b".")
    altered = signature[:-4] + (b"AAAA" if not signature.endswith(b"AAAA") else b"BBBB")
    error = await refused(signed_body(original, b".".join([header, payload, altered])))
    assert "does not verify" in error.rule


@pytest.mark.parametrize(
    ("chain", "problem"),
    [
        (["not base64!"], "not a base64 DER X.509 certificate"),
        ([base64.b64encode(b"not a certificate").decode()], "not a base64 DER X.509"),
        ([], "a list of 1 to"),
        ("MIIB", "a list of 1 to"),
        ([7], "base64 strings"),
    ],
)
async def test_a_malformed_x5c_is_refused(chain: Any, problem: str) -> None:
    """XAPI-00115 (Data 2.6.s5.b1): a malformed signature header is a 400, named."""
    original = statement()
    error = await refused(signed_body(original, jws(original, x5c=chain)))
    assert problem in error.rule

"""Signed statements on the live gateway (Data 2.6): the x5c check is wired into POST.

The use-case tests (`tests/unit/service_layer/test_xapi_signed_statements.py`) cover each
rule; this one shows the gateway verifies with real RSA over `multipart/mixed`.
"""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from shared.adapters.settings import Settings
from tests.e2e.xapi_support import lrs_client, statement_for
from tests.support.cli import progressctl
from tests.support.services import Stack
from tests.support.xapi_signing import jws, signed_body, signed_multipart, signer

pytestmark = pytest.mark.e2e


def test_signed_statements_are_verified_with_their_x5c_certificate(
    stack: Stack, user_id: str
) -> None:
    """XAPI-00116, XAPI-00117, Data 2.6.s5.b3.b3: verified → stored; otherwise 400."""
    certificate = signer("vendor")[1]
    good, tampered, impostor, hs256 = (statement_for(user_id) for _ in range(4))
    cases = [
        (good, jws(good, x5c=[certificate]), 200),
        (tampered, jws({**tampered, "verb": {"id": "urn:other"}}, x5c=[certificate]), 400),
        (impostor, jws(impostor, signed_by="impostor", x5c=[certificate]), 400),
        (hs256, jws(hs256, "HS256"), 400),
    ]
    with lrs_client(stack) as lrs:
        for sent, token, status in cases:
            content_type, body = signed_multipart(signed_body(sent, token))
            answer = lrs.post("/statements", content=body, headers={"Content-Type": content_type})
            assert answer.status_code == status, answer.text
            if status == 400:
                assert answer.json()["error"]["field"] == "[0].attachments[0]"
        assert lrs.get("/statements", params={"statementId": good["id"]}).status_code == 200
        missing = lrs.get("/statements", params={"statementId": impostor["id"]})
        assert missing.status_code == 404


def unverifiable(statement: dict[str, object]) -> bytes:
    """A JWS as the issue's attacker sent it: RS256, no `x5c`, signature `not-a-signature`."""
    header, payload, _ = jws(statement).split(b".")
    forged = base64.urlsafe_b64encode(b"not-a-signature").rstrip(b"=")
    return b".".join((header, payload, forged))


def post_signed(lrs: httpx.Client, statement: dict[str, object], token: bytes) -> httpx.Response:
    content_type, body = signed_multipart(signed_body(statement, token))
    return lrs.post("/statements", content=body, headers={"Content-Type": content_type})


def test_the_signature_status_is_shown_on_the_write_and_the_read(
    stack: Stack, user_id: str
) -> None:
    """Issue 23 item 12: an unverifiable JWS is stored but marked, a checked one verified."""
    certificate = signer("vendor")[1]
    checked, forged = statement_for(user_id), statement_for(user_id)
    with lrs_client(stack) as lrs:
        for sent, token, status in (
            (checked, jws(checked, x5c=[certificate]), "verified"),
            (forged, unverifiable(forged), "unverified"),
        ):
            answer = post_signed(lrs, sent, token)
            assert answer.status_code == 200, answer.text
            assert answer.headers["Progress-Signature"] == status
            read = lrs.get("/statements", params={"statementId": sent["id"]})
            assert read.headers["Progress-Signature"] == status
            assert "verified" not in read.text
        plain = lrs.post("/statements", json=statement_for(user_id))
        assert "Progress-Signature" not in plain.headers


def test_a_tenant_may_require_verifiable_signatures(settings: Settings, stack: Stack) -> None:
    """`requireVerifiedSignatures`: a JWS without `x5c` is 400; a verified one is stored."""
    tenant = f"signed-{uuid.uuid4().hex[:8]}"
    created = json.loads(progressctl(settings, "tenant", "create", tenant, "--json"))
    progressctl(settings, "tenant", "xapi", tenant, "--set", '{"requireVerifiedSignatures":true}')
    forged, checked = statement_for("ana"), statement_for("ana")
    with httpx.Client(
        base_url=f"{stack.gateway_url}/xapi",
        auth=(created["keyId"], created["apiKey"]),
        headers={"X-Experience-API-Version": "1.0.3"},
        timeout=10.0,
    ) as lrs:
        answer = post_signed(lrs, forged, unverifiable(forged))
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["field"] == "[0].attachments[0]"
        assert lrs.get("/statements", params={"statementId": forged["id"]}).status_code == 404
        verified = post_signed(lrs, checked, jws(checked, x5c=[signer("vendor")[1]]))
        assert verified.headers["Progress-Signature"] == "verified"

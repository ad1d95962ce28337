"""Signed statements on the live gateway (Data 2.6): the x5c check is wired into POST.

The use-case tests (`tests/unit/service_layer/test_xapi_signed_statements.py`) cover each
rule; this one shows the gateway verifies with real RSA over `multipart/mixed`.
"""

from __future__ import annotations

import pytest

from tests.e2e.xapi_support import lrs_client, statement_for
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

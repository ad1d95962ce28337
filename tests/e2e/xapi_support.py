"""Helpers of the xAPI end-to-end tests: an LRS client and statements for one user."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import jwt

from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET, Stack

KEY_ID = "bootstrap"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@contextmanager
def lrs_client(stack: Stack, version: str = "1.0.3") -> Iterator[httpx.Client]:
    """A client as LRS clients are: HTTP Basic with the key's id and key, a version header."""
    with httpx.Client(
        base_url=f"{stack.gateway_url}/xapi",
        auth=(KEY_ID, TEST_API_KEY),
        headers={"X-Experience-API-Version": version},
        timeout=10.0,
    ) as client:
        yield client


def user_token(
    user_id: str, tenant: str = "demo", secret: str = TEST_SIGNING_SECRET, seconds: int = 300
) -> str:
    """A user token (HS256, five minutes unless `seconds` says) for `user_id` of `tenant`."""
    now = int(time.time())
    claims = {"sub": user_id, "tid": tenant, "iat": now, "exp": now + seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


@contextmanager
def learner_client(
    stack: Stack,
    user_id: str,
    tenant: str = "demo",
    secret: str = TEST_SIGNING_SECRET,
) -> Iterator[httpx.Client]:
    """A client as xAPI content in a learner's browser is: that learner's user token."""
    with httpx.Client(
        base_url=f"{stack.gateway_url}/xapi",
        headers={
            "X-Experience-API-Version": "1.0.3",
            "Authorization": f"Bearer {user_token(user_id, tenant, secret)}",
        },
        timeout=10.0,
    ) as client:
        yield client


def attachment_for(data: bytes, content_type: str = "text/plain") -> dict[str, Any]:
    """A statement's metadata of the attachment `data` (a certificate, say)."""
    return {
        "usageType": "http://example.com/usage/certificate",
        "display": {"en-US": "certificate"},
        "contentType": content_type,
        "length": len(data),
        "sha2": hashlib.sha256(data).hexdigest(),
    }


def statement_for(
    user_id: str,
    activity: str = "urn:example:activity:lesson-1",
    verb: str = COMPLETED,
    **more: Any,
) -> dict[str, Any]:
    """A statement by the account `user_id` (which maps to that userId) with a fresh id."""
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example.com", "name": user_id}},
        "verb": {"id": verb},
        "object": {"id": activity},
        **more,
    }

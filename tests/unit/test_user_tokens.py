"""`mint_user_token`: a pure function of its inputs, refusing tokens the gateway would refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.adapters.user_tokens import mint_user_token

SECRET = "unit-signing-secret-0123456789-abcdef"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_claims_are_sub_tid_iat_exp_and_the_token_is_deterministic() -> None:
    token = mint_user_token(SECRET, "acme", "u1", timedelta(minutes=5), NOW)

    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {
        "sub": "u1",
        "tid": "acme",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 300,
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert token == mint_user_token(SECRET, "acme", "u1", timedelta(minutes=5), NOW)


@pytest.mark.parametrize(
    ("user", "ttl", "now", "reason"),
    [
        ("", timedelta(minutes=5), NOW, "user id"),
        ("two words", timedelta(minutes=5), NOW, "user id"),
        ("u1", timedelta(0), NOW, "lifetime"),
        ("u1", timedelta(minutes=5), NOW.replace(tzinfo=None), "timezone"),
    ],
)
def test_refuses_bad_input(user: str, ttl: timedelta, now: datetime, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        mint_user_token(SECRET, "acme", user, ttl, now)

"""Trusted issuers' keys fetched from a real local provider: bounded, cached, rate-limited."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from shared.adapters.issuer_records import TrustedIssuer, valid_inline_jwks
from shared.adapters.jwks import JwksCache, KeysUnavailable, UnknownKey
from tests.support.key_server import KeyServer, running_key_server, signing_key

pytestmark = pytest.mark.integration

REFRESH_SECONDS = 60.0


class FakeClock:
    """Monotonic seconds the test moves by hand, so no test sleeps through an interval."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> Iterator[KeyServer]:
    with running_key_server("RS256") as server:
        yield server


def cache(clock: FakeClock, **overrides: object) -> JwksCache:
    options: dict[str, object] = {
        "timeout": 2.0,
        "max_bytes": 64 * 1024,
        "default_ttl": 900.0,
        "refresh_interval": REFRESH_SECONDS,
        "allow_loopback_http": True,
        "clock": clock,
        **overrides,
    }
    return JwksCache(**options)  # type: ignore[arg-type]


def issuer_of(server: KeyServer, jwks_url: str | None = None) -> TrustedIssuer:
    return TrustedIssuer(
        tenant_id="demo",
        issuer=server.issuer,
        audiences=("app",),
        algorithms=("RS256", "ES256", "EdDSA"),
        jwks_url=jwks_url or server.jwks_url,
    )


def failed_fetches() -> float:
    return REGISTRY.get_sample_value("progress_jwks_fetches_total", {"outcome": "failed"}) or 0.0


def test_an_unknown_kid_refreshes_once_then_is_unknown(provider: KeyServer) -> None:
    clock, issuer = FakeClock(), issuer_of(provider)
    keys = cache(clock)
    known = provider.keys[0]

    async def scenario() -> None:
        assert (await keys.key(issuer, known.kid, "RS256")).key_id == known.kid
        clock.now += REFRESH_SECONDS
        with pytest.raises(UnknownKey):
            await keys.key(issuer, "never-published", "RS256")

    asyncio.run(scenario())
    assert provider.fetches == 2


def test_a_kid_flood_fetches_at_most_once_per_interval(provider: KeyServer) -> None:
    clock, issuer = FakeClock(), issuer_of(provider)
    keys = cache(clock)

    async def flood() -> None:
        for index in range(50):
            with pytest.raises(UnknownKey):
                await keys.key(issuer, f"made-up-{index}", "RS256")

    asyncio.run(flood())
    assert provider.fetches == 1
    clock.now += REFRESH_SECONDS
    asyncio.run(flood())
    assert provider.fetches == 2


def test_keys_rotated_mid_test_are_picked_up(provider: KeyServer) -> None:
    clock, issuer = FakeClock(), issuer_of(provider)
    keys = cache(clock)
    old = provider.keys[0]
    asyncio.run(keys.key(issuer, old.kid, "RS256"))

    new = signing_key("ES256")
    provider.keys = [new]
    clock.now += REFRESH_SECONDS

    assert asyncio.run(keys.key(issuer, new.kid, "ES256")).key_id == new.kid
    with pytest.raises(UnknownKey):
        asyncio.run(keys.key(issuer, old.kid, "RS256"))


def test_an_outage_keeps_the_last_good_set_counted_and_logged(provider: KeyServer) -> None:
    clock, issuer = FakeClock(), issuer_of(provider)
    provider.cache_control = "max-age=120"
    keys = cache(clock)
    known = provider.keys[0]
    asyncio.run(keys.key(issuer, known.kid, "RS256"))
    before = failed_fetches()

    provider.failing = True
    clock.now += 121
    with capture_logs() as logs:
        still = asyncio.run(keys.key(issuer, known.kid, "RS256"))

    assert still.key_id == known.kid
    assert provider.fetches == 2
    assert failed_fetches() == before + 1
    (line,) = [entry for entry in logs if entry["event"] == "jwks_fetch_failed"]
    assert line["kept_last_good"] is True
    assert "503" in line["reason"]


def test_cache_control_max_age_is_honoured(provider: KeyServer) -> None:
    clock, issuer = FakeClock(), issuer_of(provider)
    provider.cache_control = "public, max-age=300"
    keys = cache(clock, refresh_interval=1.0)
    kid = provider.keys[0].kid

    asyncio.run(keys.key(issuer, kid, "RS256"))
    clock.now += 299
    asyncio.run(keys.key(issuer, kid, "RS256"))
    assert provider.fetches == 1
    clock.now += 2
    asyncio.run(keys.key(issuer, kid, "RS256"))
    assert provider.fetches == 2


def test_a_slow_answer_is_cut_off_at_the_timeout(provider: KeyServer) -> None:
    provider.delay_seconds = 3.0
    keys = cache(FakeClock(), timeout=0.3)

    started = time.monotonic()
    with pytest.raises(KeysUnavailable):
        asyncio.run(keys.key(issuer_of(provider), provider.keys[0].kid, "RS256"))

    assert time.monotonic() - started < 1.5


def test_a_huge_answer_is_refused_within_the_size_bound(provider: KeyServer) -> None:
    provider.padding_bytes = 5 * 1024 * 1024
    keys = cache(FakeClock(), max_bytes=16 * 1024)

    with capture_logs() as logs, pytest.raises(KeysUnavailable):
        asyncio.run(keys.key(issuer_of(provider), provider.keys[0].kid, "RS256"))

    (line,) = [entry for entry in logs if entry["event"] == "jwks_fetch_failed"]
    assert "larger than 16384 bytes" in line["reason"]


def test_plain_http_is_refused_unless_loopback_is_allowed(provider: KeyServer) -> None:
    keys = cache(FakeClock(), allow_loopback_http=False)

    with pytest.raises(KeysUnavailable):
        asyncio.run(keys.key(issuer_of(provider), provider.keys[0].kid, "RS256"))

    assert provider.fetches == 0


def test_an_inline_key_set_needs_no_fetch(provider: KeyServer) -> None:
    key = signing_key("EdDSA")
    issuer = TrustedIssuer(
        tenant_id="demo",
        issuer=provider.issuer,
        audiences=("app",),
        algorithms=("EdDSA",),
        jwks_json=valid_inline_jwks(json.dumps({"keys": [key.public_jwk]})),
    )

    found = asyncio.run(cache(FakeClock()).key(issuer, key.kid, "EdDSA"))

    assert found.key_id == key.kid
    assert provider.fetches == 0


def test_a_key_is_only_used_for_its_own_algorithm(provider: KeyServer) -> None:
    with pytest.raises(UnknownKey):
        asyncio.run(cache(FakeClock()).key(issuer_of(provider), provider.keys[0].kid, "ES256"))

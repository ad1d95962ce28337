"""Trusted issuers' public keys, fetched safely and cached: the only place a JWKS is read.

Keys come only from the issuer's configured URL (never from a token's `jku`, `x5u` or `jwk`
header), within a size and time bound, and are kept for the answer's `Cache-Control:
max-age`. A token naming a `kid` the cached set lacks triggers a fetch, at most once per
refresh interval per URL, so a flood of made-up `kid`s cannot hammer the provider. A failed
fetch keeps the last good set, counted and logged.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import jwt
from cachetools import LRUCache

from shared.adapters.issuer_records import TrustedIssuer, valid_jwks_url
from shared.adapters.logs import get_logger
from shared.adapters.metrics import JWKS_FETCHES
from shared.adapters.settings import Settings

__all__ = ["JwksCache", "KeysUnavailable", "UnknownKey"]

log = get_logger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_LONGEST_CACHE_SECONDS = 86_400
_MAX_KEY_SETS = 1_000


class UnknownKey(Exception):
    """The issuer's key set has no key for this `kid` and algorithm, even after a refresh."""


class KeysUnavailable(Exception):
    """No key set of this issuer could ever be fetched (and none is cached)."""


class _FetchFailed(Exception):
    """One fetch of a key set failed; the message says why, for the log."""


@dataclass
class _Entry:
    """One URL's key set: the last good one, when it goes stale, when it was last fetched."""

    keys: jwt.PyJWKSet | None = None
    stale_at: float = 0.0
    fetched_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwksCache:
    """Finds the public key a trusted issuer's token names; fetches key sets within bounds."""

    def __init__(
        self,
        *,
        timeout: float,
        max_bytes: int,
        default_ttl: float,
        refresh_interval: float,
        allow_loopback_http: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._default_ttl = default_ttl
        self._refresh_interval = refresh_interval
        self._allow_loopback_http = allow_loopback_http
        self._clock = clock
        self._entries: LRUCache[str, _Entry] = LRUCache(_MAX_KEY_SETS)
        self._inline: LRUCache[str, jwt.PyJWKSet] = LRUCache(_MAX_KEY_SETS)

    @classmethod
    def from_settings(cls, settings: Settings) -> JwksCache:
        """The cache the `PROGRESS_JWKS_*` settings describe."""
        return cls(
            timeout=settings.jwks_fetch_timeout_seconds,
            max_bytes=settings.jwks_max_bytes,
            default_ttl=settings.jwks_cache_seconds,
            refresh_interval=settings.jwks_refresh_interval_seconds,
            allow_loopback_http=settings.jwks_allow_loopback_http,
        )

    async def key(self, issuer: TrustedIssuer, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The issuer's key for a token with this `kid` and `alg` header.

        Raises:
            UnknownKey: If no key of the set fits, after at most one refresh.
            KeysUnavailable: If the issuer's keys were never fetched successfully.
        """
        if issuer.jwks_url is None:
            return _pick(self._inline_set(issuer.jwks_json or "{}"), kid, algorithm)
        entry = self._entries.get(issuer.jwks_url)
        if entry is None:
            entry = self._entries.setdefault(issuer.jwks_url, _Entry())
        if entry.keys is None or self._clock() >= entry.stale_at:
            await self._refresh(issuer.jwks_url, entry)
        if entry.keys is None:
            raise KeysUnavailable(f"no key set of issuer '{issuer.issuer}' could be fetched")
        try:
            return _pick(entry.keys, kid, algorithm)
        except UnknownKey:
            if not await self._refresh(issuer.jwks_url, entry):
                raise
        return _pick(entry.keys, kid, algorithm)

    def _inline_set(self, text: str) -> jwt.PyJWKSet:
        found = self._inline.get(text)
        if found is None:
            found = self._inline[text] = jwt.PyJWKSet.from_json(text)
        return found

    async def _refresh(self, url: str, entry: _Entry) -> bool:
        """Fetch the set unless it was fetched within the refresh interval; True if fetched."""
        async with entry.lock:
            now = self._clock()
            if entry.fetched_at is not None and now - entry.fetched_at < self._refresh_interval:
                return False
            entry.fetched_at = now
            try:
                keys, ttl = await self._fetch(url)
            except _FetchFailed as error:
                JWKS_FETCHES.labels("failed").inc()
                log.warning(
                    "jwks_fetch_failed",
                    url=url,
                    reason=str(error),
                    kept_last_good=entry.keys is not None,
                )
                entry.stale_at = now + self._refresh_interval
                return False
            JWKS_FETCHES.labels("ok").inc()
            entry.keys = keys
            entry.stale_at = now + max(ttl, self._refresh_interval)
            log.info("jwks_fetched", url=url, keys=len(keys.keys), cache_seconds=ttl)
            return True

    async def _fetch(self, url: str) -> tuple[jwt.PyJWKSet, float]:
        """GET the key set: bounded in time and size, no redirects, only an allowed URL."""
        try:
            valid_jwks_url(url, self._allow_loopback_http)
        except ValueError as error:
            raise _FetchFailed(str(error)) from error
        try:
            async with asyncio.timeout(self._timeout):
                body, cache_control = await self._get(url)
        except TimeoutError as error:
            raise _FetchFailed(f"no complete answer within {self._timeout:g}s") from error
        except httpx.HTTPError as error:
            raise _FetchFailed(f"{type(error).__name__}: {error}") from error
        try:
            keys = jwt.PyJWKSet.from_dict(_public_keys(json.loads(body)))
        except (ValueError, jwt.PyJWTError) as error:
            raise _FetchFailed(f"not a usable JWKS: {error}") from error
        return keys, self._cache_seconds(cache_control)

    async def _get(self, url: str) -> tuple[bytes, str]:
        async with (
            httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise _FetchFailed(f"answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise _FetchFailed(f"answer larger than {self._max_bytes} bytes")
            return bytes(body), response.headers.get("cache-control", "")

    def _cache_seconds(self, cache_control: str) -> float:
        """The answer's `max-age`, else the default; never more than a day."""
        found = _MAX_AGE.search(cache_control)
        seconds = float(found.group(1)) if found else self._default_ttl
        return min(seconds, _LONGEST_CACHE_SECONDS)


def _public_keys(document: object) -> dict[str, object]:
    """The set's asymmetric keys only: a symmetric (`oct`) key could turn HS256 back on."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not an object with a 'keys' array")
    keys = [
        key
        for key in document["keys"]
        if isinstance(key, dict) and key.get("kty") in {"RSA", "EC", "OKP"}
    ]
    return {"keys": keys}


def _pick(keys: jwt.PyJWKSet, kid: str | None, algorithm: str) -> jwt.PyJWK:
    """The key with this `kid` (or the only key, for a token without one) that fits `alg`."""
    fitting = [
        key
        for key in keys.keys
        if key.algorithm_name == algorithm and (kid is None or key.key_id == kid)
    ]
    if kid is None and len(fitting) != 1:
        raise UnknownKey("the token names no 'kid' and the issuer has more than one key")
    if not fitting:
        raise UnknownKey(f"the issuer publishes no {algorithm} key with kid {kid!r}")
    return fitting[0]

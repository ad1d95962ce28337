"""Who the client is to the server: a tenant API key (backends) or a user token provider."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

__all__ = ["Credentials", "TokenProvider"]

TokenProvider = Callable[[], str | Awaitable[str]]
"""Returns a fresh user token (a JWT); called first on use and again once after a 401."""


class Credentials:
    """Gives the `Authorization` header; exactly one of `api_key` and `token_provider`.

    Raises:
        ValueError: If both or neither are given.
    """

    def __init__(self, api_key: str | None, token_provider: TokenProvider | None) -> None:
        if (api_key is None) == (token_provider is None):
            raise ValueError("give exactly one of api_key and token_provider")
        self._token = api_key
        self._provider = token_provider

    @property
    def is_api_key(self) -> bool:
        """Backend credentials (may use the API-key-only routes: import, merge)."""
        return self._provider is None

    async def header(self) -> str:
        """`Bearer <key or token>`, asking the provider the first time."""
        if self._token is None:
            await self.refresh()
        return f"Bearer {self._token}"

    async def refresh(self) -> bool:
        """Ask the provider for a new token (after a 401); False for an API key."""
        if self._provider is None:
            return False
        token = self._provider()
        self._token = await token if inspect.isawaitable(token) else token
        return True

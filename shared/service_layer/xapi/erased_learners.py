"""xAPI writes for an erased learner are refused: statements and documents alike (410 `erased`).

Erasure deletes a learner's statements, documents and attachments; this check keeps the
gateway from storing new ones. It may lag an erasure by the tombstone cache's lifetime, and
the erase's second sweep removes what was written in that window.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import structlog

__all__ = ["ErasedCheck", "UserErased", "refuse_erased"]

log = structlog.stdlib.get_logger(__name__)

ErasedCheck = Callable[[str, str], Awaitable[bool]]
"""Whether (tenant, userId) was erased: `Ingest.erased`, the gateway's cached tombstones."""


class UserErased(Exception):
    """An xAPI write names an erased learner: nothing of theirs is stored any more."""

    def __init__(self, user_id: str, field: str) -> None:
        super().__init__(f"the {field}'s user {user_id!r} was erased")
        self.field = field


async def refuse_erased(
    erased: ErasedCheck, tenant_id: str, user_ids: Iterable[str | None], field: str
) -> None:
    """Raise `UserErased` (naming `field`) if any of the users was erased; None maps to no user.

    Called before anything of the request is stored, so a batch naming one erased learner
    stores nothing.
    """
    for user_id in sorted({user_id for user_id in user_ids if user_id is not None}):
        if await erased(tenant_id, user_id):
            log.info("xapi_write_refused_erased", tenant=tenant_id, field=field)
            raise UserErased(user_id, field)

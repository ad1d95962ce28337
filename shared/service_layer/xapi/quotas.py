"""Per-learner bounds on what the LRS stores (DESIGN "xAPI cost and bounds").

Without them one credential could fill the database through one agent: twenty 1 MiB State
documents, statements without end, attachments of any total size. A write past a quota
stores nothing and answers 413 with code `quota`; `attachments=true` pages stop at a byte
bound and continue with `more`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIB", "QuotaExceeded", "XapiQuotas"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class XapiQuotas:
    """The bounds, per learner (`shared.xapi.owners.quota_owner`) unless said otherwise.

    Attributes:
        statements: Statements stored (voided ones included).
        documents: State and Agent Profile documents; also the Activity Profile documents
            of a tenant.
        attachment_bytes: Attachment data kept.
        page_attachment_bytes: Attachment data one `attachments=true` page carries (a page
            holds at least one statement, whatever its attachments weigh).
    """

    statements: int = 100_000
    documents: int = 1_000
    attachment_bytes: int = 64 * MIB
    page_attachment_bytes: int = 16 * MIB


class QuotaExceeded(Exception):
    """A write would take a learner past a quota (413, code `quota`); nothing was stored.

    Attributes:
        quota: Which one: `statements`, `documents` or `attachment_bytes`.
        field: The request's property or parameter naming the learner.
        message: The limit, the usage and the setting that sets it.
    """

    def __init__(self, quota: str, field: str, message: str) -> None:
        self.quota = quota
        self.field = field
        self.message = message
        super().__init__(quota, field, message)

    def __str__(self) -> str:
        return self.message

"""What the xAPI use cases need from outside: storage, and RSA for signed statements.

Each storage port has a MongoDB adapter (`shared.adapters.xapi_statement_store`,
`shared.adapters.xapi_document_store`) and an in-memory fake (`tests.fakes`), held to the
same contract tests. Both may raise `StoreUnavailable` / `StoreRejected` like every port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from shared.xapi import SignedStatement, StatementQuery, ifi_key, quota_owner

__all__ = [
    "Attachment",
    "DocumentKey",
    "DocumentStore",
    "SignatureStatus",
    "SignatureVerifier",
    "StatementRecord",
    "StatementStore",
    "StoredDocument",
    "Usage",
    "UsageStore",
]


SignatureStatus = Literal["verified", "unverified"]
"""A signed statement's JWS: checked against its `x5c` certificate, or not checkable."""


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """A stored statement and what it is found by.

    Attributes:
        statement: The statement as stored (id, stored, authority and version set).
        stored: When the LRS stored it (its `stored` property, millisecond precision).
        user_id: The userId its actor maps to under the tenant's rules (for erasure), or None.
        voided: Whether a later voiding statement voided it.
        target: For a statement whose object is a StatementRef, the statement it refers to
            (when stored): a query matching the target also finds this statement
            (Communication 2.1.4.s1.b2).
        signature: For a signed statement, whether its JWS was verified with its `x5c`
            certificate or could not be checked (kept beside the statement, not in it).
    """

    statement: dict[str, Any]
    stored: datetime
    user_id: str | None
    voided: bool = False
    target: dict[str, Any] | None = None
    signature: SignatureStatus | None = None

    @property
    def statement_id(self) -> str:
        """The statement's id (lowercase)."""
        return str(self.statement["id"]).lower()

    @property
    def owner(self) -> str:
        """Whose quotas the statement and its attachment data count against (`quota_owner`)."""
        return quota_owner(self.user_id, ifi_key(self.statement["actor"]))


@dataclass(frozen=True, slots=True)
class Attachment:
    """Attachment data, kept once per tenant and SHA-2."""

    sha2: str
    content_type: str
    data: bytes


class StatementStore(Protocol):
    """Statements by id per tenant, with the `filter_keys` of each indexed."""

    async def get_many(self, tenant_id: str, ids: Sequence[str]) -> dict[str, StatementRecord]:
        """The stored statements among these ids (lowercase), by id; absent ones left out."""
        ...

    async def insert(self, tenant_id: str, records: Sequence[StatementRecord]) -> set[str]:
        """Store each record unless its id is taken; return the ids that were taken.

        Never overwrites: of two concurrent writers of one id, one wins and the other learns.
        """
        ...

    async def void(self, tenant_id: str, statement_id: str) -> None:
        """Mark a stored statement voided (a no-op for an unknown id)."""
        ...

    async def find(
        self,
        tenant_id: str,
        query: StatementQuery,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[StatementRecord]:
        """Unvoided statements passing the query's filters, ordered by (stored, id).

        A statement passes when it matches the agent, verb, activity and registration
        filters, or when the statement its StatementRef targets does.

        Newest first unless `query.ascending`; `after` is the (stored, id) of the previous
        page's last statement; `since` is exclusive and `until` inclusive.
        """
        ...

    async def put_attachments(
        self, tenant_id: str, user_id: str | None, attachments: Sequence[Attachment]
    ) -> None:
        """Keep attachment data (a SHA-2 already kept is not written again)."""
        ...

    async def attachment_sizes(self, tenant_id: str, sha2s: Sequence[str]) -> dict[str, int]:
        """The byte size of the kept attachment data among these SHA-2s, without loading it."""
        ...

    async def attachments(self, tenant_id: str, sha2s: Sequence[str]) -> dict[str, Attachment]:
        """The kept attachment data among these SHA-2s, by SHA-2."""
        ...


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """Where one document lives; `agent` is the agent's `ifi_key`.

    One shape for the three document resources: a State document has all four parts, an
    Activity Profile document an empty `agent`, an Agent Profile document an empty
    `activity_id` (`document_id` being the profileId). A store keeps State documents
    apart from profiles, so the empty parts never meet a real one.
    """

    activity_id: str
    agent: str
    registration: str | None
    document_id: str


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A stored document: its bytes, their type, ETag and when it was last written."""

    content: bytes
    content_type: str
    etag: str
    updated: datetime


class DocumentStore(Protocol):
    """Documents per tenant and `DocumentKey` (one store for State, one for profiles)."""

    async def get(self, tenant_id: str, key: DocumentKey) -> StoredDocument | None:
        """The document, or None."""
        ...

    async def put(
        self,
        tenant_id: str,
        key: DocumentKey,
        user_id: str | None,
        document: StoredDocument,
        expected_etag: str | None,
    ) -> bool:
        """Write the document if the stored one still has `expected_etag` (None: is absent).

        Returns False when another writer came first (the caller re-checks its preconditions).
        """
        ...

    async def ids(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        since: datetime | None,
    ) -> list[str]:
        """The stateIds of a context (updated after `since`, when given), sorted."""
        ...

    async def delete(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        document_id: str | None,
    ) -> int:
        """Delete one document, or all of the context (`document_id` None); return how many."""
        ...


@dataclass(frozen=True, slots=True)
class Usage:
    """What one quota owner (`quota_owner`) has stored, or a change of it."""

    statements: int = 0
    documents: int = 0
    attachment_bytes: int = 0


class UsageStore(Protocol):
    """Running totals per tenant and quota owner, so a quota check reads one small record.

    Counting the stored records instead would read every one of them per write (the
    documents and attachment data of one learner weigh up to the quotas themselves).
    """

    async def usage(self, tenant_id: str, owner: str) -> Usage:
        """The owner's totals (zeros for an owner never seen)."""
        ...

    async def add(self, tenant_id: str, owner: str, user_id: str | None, change: Usage) -> None:
        """Add `change` (negative to release) to the owner's totals, atomically.

        `user_id` is the owner's userId, if it is a user's: erasure deletes the totals too.
        """
        ...


class SignatureVerifier(Protocol):
    """Checks a signed statement's RSA signature (Data 2.6.s5.b3.b3); pure computation, no I/O.

    The adapter is `shared.adapters.jws_certificates.X5cSignatureVerifier`; it needs no fake,
    as it touches nothing outside the process.
    """

    def problem(self, signed: SignedStatement) -> str | None:
        """Why the signature does not hold, or None when it does or nothing can check it.

        Only a JWS whose header carries an `x5c` chain can be checked: its first certificate's
        public key must verify the signature. Without one the LRS cannot know the key, and
        the statement is accepted on the structural checks alone.
        """
        ...

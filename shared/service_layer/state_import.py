"""Importing saved states of many users from NDJSON as events: resumable, line by line.

Each line is `{"userId": ..., "state": {...}, "asOf"?: "..."}`. A line's derived events go
through `Ingest` (the gateway's path: validation, quotas, course scopes, erasure) in parts
of at most `part` events, as the gateway would take them. After each line the run's
checkpoint moves on, so an interrupted import continues after the last line it finished.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shared.domain import ContractViolation, events_from_state, is_valid_id, parse_state
from shared.service_layer.ingest import Ingest, Submission
from shared.service_layer.ports import Clock, ImportCheckpoints

__all__ = ["ImportReport", "StateImport"]


@dataclass(slots=True)
class ImportReport:
    """The file's line count, how many lines are finished, events accepted, and problems.

    `problems` names each rejected line (or event of a line) by its line number and reason.
    """

    lines: int = 0
    done: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)


def _line(text: str) -> tuple[str, object, datetime | None]:
    """The user, the state and the asOf of one line, or ContractViolation naming the field."""
    try:
        record = json.loads(text)
    except ValueError as error:
        raise ContractViolation(None, f"not JSON: {error}") from None
    if not isinstance(record, dict) or set(record) - {"userId", "state", "asOf"}:
        raise ContractViolation(None, "a line is {userId, state, asOf?}")
    user = record.get("userId")
    if not isinstance(user, str) or not is_valid_id(user):
        raise ContractViolation("userId", "must be 1-128 printable characters without whitespace")
    as_of = record.get("asOf")
    try:
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) else None
    except ValueError:
        raise ContractViolation("asOf", "must be an RFC 3339 time") from None
    if moment is not None and moment.tzinfo is None:
        raise ContractViolation("asOf", "must carry a UTC offset")
    return user, record.get("state"), moment


class StateImport:
    """Imports NDJSON saved states for one tenant through `Ingest`, resuming by checkpoint."""

    def __init__(
        self, ingest: Ingest, checkpoints: ImportCheckpoints, clock: Clock, part: int
    ) -> None:
        self._ingest = ingest
        self._checkpoints = checkpoints
        self._clock = clock
        self._part = part

    async def run(
        self,
        tenant_id: str,
        content: bytes,
        *,
        restart: bool = False,
        progress: Callable[[ImportReport], None] | None = None,
    ) -> ImportReport:
        """Import the UTF-8 lines after the run's checkpoint (all of them when `restart`).

        One run per tenant and file content: the same file resumes where it stopped.
        Re-importing a line is a no-op (its events' ids derive from user, item and field).
        """
        run_id = f"{tenant_id}:{hashlib.sha256(content).hexdigest()}"
        lines = content.decode("utf-8").splitlines()
        done = 0 if restart else await self._checkpoints.lines_done(run_id)
        report = ImportReport(lines=len(lines), done=done)
        if progress is not None:
            progress(report)
        for number, text in enumerate(lines[done:], start=done + 1):
            if text.strip():
                await self._import_line(tenant_id, number, text, report)
            await self._checkpoints.save(run_id, number, at=self._clock.now())
            report.done = number
            if progress is not None:
                progress(report)
        return report

    async def _import_line(
        self, tenant_id: str, number: int, text: str, report: ImportReport
    ) -> None:
        """Derive the line's events and submit them in parts of at most `part` events."""
        now = self._clock.now()
        try:
            user, state, as_of = _line(text)
            derived = events_from_state(parse_state(state), user_id=user, as_of=as_of or now)
        except ContractViolation as violation:
            report.problems.append(f"line {number}: {violation}")
            return
        part = self._part
        for first in range(0, len(derived), part):
            submissions = [Submission(user, raw) for raw in derived[first : first + part]]
            result = await self._ingest.submit(
                tenant_id, submissions, now=now, request_id=f"import-{number}-{first // part}"
            )
            report.events += len(result.published)
            for rejected in (o for o in result.outcomes if not o.accepted):
                report.problems.append(
                    f"line {number}: event {rejected.event_id}: {rejected.error}"
                )

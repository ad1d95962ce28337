"""The real projector or retry worker with a projection that fails chosen events on purpose.

    python -m tests.support.flaky_services projector|retry_worker --faults F --attempts A

The app is the production one (`create_app` with its overrides seam); only the projection
differs. `F` is a JSON object {eventId prefix: failures}: an event whose id starts with the
prefix is reported failed (`ProjectionReport.failed`, like any failed event) on its first
`failures` attempts, then projected for real. Tests rewrite `F` to "fix the cause". Every
attempt at a watched event is appended to `A` as one JSON line (eventId, outcome, at, role),
so the count survives restarts and is shared by both processes, and tests read the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn

from services.consumer_bootstrap import ProjectionOverrides
from services.projector.app import create_app as projector_app
from services.retry_worker.app import create_app as retry_worker_app
from shared.adapters.logs import configure_logging
from shared.adapters.serving import serve_metrics
from shared.adapters.settings import Settings
from shared.domain import Quotas, RecordedEvent
from shared.service_layer.erasure import Erasure
from shared.service_layer.ports import (
    ChangeAnnouncer,
    EventLog,
    SnapshotCheckpoints,
    SnapshotStore,
)
from shared.service_layer.projection import Projection, ProjectionReport

ROLES = ("projector", "retry_worker")


def write_faults(path: Path, faults: dict[str, int]) -> None:
    """Replace the fault file atomically (a reader never sees half of it)."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
        json.dump(faults, handle)
    os.replace(handle.name, path)


def read_attempts(path: Path) -> list[dict[str, Any]]:
    """Every recorded attempt, in the order they were made."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class FlakyProjection(Projection):
    """The real projection, except that watched events fail their first N attempts."""

    def __init__(
        self,
        *,
        events: EventLog,
        snapshots: SnapshotStore,
        erasure: Erasure,
        quotas: Quotas,
        checkpoints: SnapshotCheckpoints,
        changes: ChangeAnnouncer,
        faults: Path,
        attempts: Path,
        role: str,
        replay_memory: int = 0,
    ) -> None:
        super().__init__(events, snapshots, erasure, quotas, checkpoints, changes, replay_memory)
        self._faults = faults
        self._attempts = attempts
        self._role = role

    def _budget(self, event: RecordedEvent, faults: dict[str, int]) -> int | None:
        matches = [n for prefix, n in faults.items() if event.event_id.startswith(prefix)]
        return matches[0] if matches else None

    async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
        """Fail the watched events that still have failures to go; project the rest.

        The real projection runs first: if it raises (an outage), nothing is recorded, so
        an outage never counts as an attempt here either.
        """
        started = datetime.now(UTC).isoformat()
        faults: dict[str, int] = json.loads(self._faults.read_text())
        failed_so_far = Counter(
            item["eventId"] for item in read_attempts(self._attempts) if item["outcome"] == "failed"
        )
        failing: list[tuple[RecordedEvent, int]] = []
        passing: list[RecordedEvent] = []
        watched: list[RecordedEvent] = []
        for event in events:
            budget = self._budget(event, faults)
            if budget is not None and failed_so_far[event.event_id] < budget:
                failing.append((event, budget))
                continue
            passing.append(event)
            if budget is not None:
                watched.append(event)
        report = await super().project(passing)
        lines = [(event, "failed") for event, _ in failing] + [(e, "passed") for e in watched]
        with self._attempts.open("a") as log:
            for event, outcome in lines:
                record = {"eventId": event.event_id, "outcome": outcome, "at": started}
                log.write(json.dumps({**record, "role": self._role}) + "\n")
        for event, budget in failing:
            number = failed_so_far[event.event_id] + 1
            report.failed.append((event, f"InjectedFailure: {number} of {budget}"))
        return report


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the flaky projector or retry worker, configured by PROGRESS_* like the real one."""
    parser = argparse.ArgumentParser(prog="flaky_services")
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--faults", type=Path, required=True)
    parser.add_argument("--attempts", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)

    def projection(**parts: Any) -> Projection:
        return FlakyProjection(**parts, faults=args.faults, attempts=args.attempts, role=args.role)

    if args.role == "projector":
        app = projector_app(settings, ProjectionOverrides(projection=projection))
        port = settings.projector_port
    else:
        app = retry_worker_app(settings, ProjectionOverrides(projection=projection))
        port = settings.retry_worker_port
    serve_metrics(settings)
    uvicorn.run(app, host=settings.http_host, port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()

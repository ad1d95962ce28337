"""How `progressctl tenant list` shows tenants: a table for people, JSON for scripts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from shared.domain.tenants import TenantSummary

__all__ = ["print_tenants", "tenants_json"]


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _minute(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


def tenants_json(tenants: list[TenantSummary]) -> list[dict[str, Any]]:
    """The tenants with their keys' ids, scopes and ages, JSON-ready (no key, no secret)."""
    return [
        {
            "tenant": summary.tenant_id,
            "createdAt": _when(summary.created_at),
            "keys": [
                {
                    "keyId": key.key_id,
                    "scopes": list(key.scopes),
                    "createdAt": _when(key.created_at),
                }
                for key in summary.keys
            ],
        }
        for summary in tenants
    ]


def print_tenants(tenants: list[TenantSummary]) -> None:
    """One row per key, the tenant named on its first; times in UTC, to the minute."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, caption="times in UTC")
    for header in ("tenant", "created", "key", "scopes", "key created"):
        table.add_column(header, overflow="fold", no_wrap=header in {"key", "scopes"})
    for summary in tenants:
        first = [summary.tenant_id, _minute(summary.created_at)]
        if not summary.keys:
            table.add_row(*first, "-", "-", "-")
        for index, key in enumerate(summary.keys):
            table.add_row(
                *(first if index == 0 else ["", ""]),
                key.key_id,
                ",".join(key.scopes),
                _minute(key.created_at),
            )
    Console(highlight=False).print(table)

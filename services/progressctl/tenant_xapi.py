"""`progressctl tenant xapi`: show or replace a tenant's xAPI profile (docs/xapi.md).

The profile is one JSON object (camelCase, as docs/xapi.md lists its fields); what is given
replaces the whole profile and omitted fields take their defaults, so the printed result is
exactly what the gateways will apply (within PROGRESS_AUTH_CACHE_SECONDS).
"""

from __future__ import annotations

import json

import typer
from pydantic import ValidationError

from services.progressctl.common import checked_tenant_id, with_tenants
from shared.service_layer.tenants import TenantAdmin
from shared.xapi import XapiProfile

__all__ = ["parse_profile", "xapi_profile"]

_MAX_PROFILE_CHARS = 4096


def parse_profile(value: str | None) -> XapiProfile | None:
    """The profile `--set` gives (None without it).

    Raises:
        typer.BadParameter: Too long, not JSON, or not a valid profile (each problem named).
    """
    if value is None:
        return None
    if len(value) > _MAX_PROFILE_CHARS:
        raise typer.BadParameter(f"at most {_MAX_PROFILE_CHARS} characters", param_hint="'--set'")
    try:
        return XapiProfile.model_validate_json(value)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'profile'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise typer.BadParameter(problems, param_hint="'--set'") from error


def xapi_profile(
    tenant: str = typer.Argument(..., callback=checked_tenant_id, help="Tenant id."),
    replacement: str | None = typer.Option(
        None, "--set", help='The whole new profile as JSON, e.g. \'{"defaultVersion": "1.0.3"}\'.'
    ),
) -> None:
    """Print the tenant's xAPI profile as JSON; with --set, replace it first."""
    chosen = parse_profile(replacement)

    async def operation(admin: TenantAdmin) -> XapiProfile:
        if chosen is not None:
            await admin.set_xapi_profile(tenant, chosen)
        return await admin.xapi_profile(tenant)

    profile = with_tenants(operation)
    typer.echo(json.dumps(profile.model_dump(mode="json", by_alias=True), indent=2))

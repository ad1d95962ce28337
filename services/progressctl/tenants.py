"""`progressctl tenant …` and `progressctl token`: tenants, their API keys and signing secrets.

Plain API keys and signing secrets are printed once, on stdout, when they are made; they are
never logged. Exit codes: 0 done, 1 unknown tenant or key / tenant already exists, 2 bad
usage (Typer's), 3 MongoDB unavailable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from services.progressctl.common import (
    EXIT_CONFLICT,
    checked_tenant_id,
    load_settings,
    run_command,
    with_tenants,
)
from services.progressctl.provisioning import bootstrap_tenant
from services.progressctl.tenant_issuers import issuer_app
from services.progressctl.tenant_views import print_tenants, tenants_json
from services.progressctl.tenant_xapi import xapi_profile
from shared.adapters.user_tokens import mint_user_token
from shared.domain.ids import is_valid_id
from shared.domain.tenants import ALL_SCOPES, IssuedKey, valid_scopes

__all__ = ["tenant_app", "token"]

tenant_app = typer.Typer(help="Tenants and their credentials.", no_args_is_help=True)

tenant_app.command("xapi")(xapi_profile)
tenant_app.add_typer(issuer_app, name="issuer")

_KEY_SHOWN_ONCE = "store the API key now: only its hash is kept, it will not be shown again"
_SCOPES_HELP = f"Comma-separated scopes of the key, from: {','.join(ALL_SCOPES)}."


def _scopes(value: str) -> list[str]:
    try:
        return valid_scopes(scope.strip() for scope in value.split(",") if scope.strip())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--scopes'") from error


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def _print_key(tenant_id: str, key: IssuedKey) -> None:
    typer.echo(f"API key '{key.key_id}' of tenant '{tenant_id}' ({','.join(key.scopes)}):")
    typer.echo(key.api_key)


def _report_key(tenant_id: str, key: IssuedKey, as_json: bool) -> None:
    if as_json:
        _print_json(
            {
                "tenant": tenant_id,
                "keyId": key.key_id,
                "scopes": list(key.scopes),
                "apiKey": key.api_key,
            }
        )
        return
    _print_key(tenant_id, key)
    typer.echo(f"warning: {_KEY_SHOWN_ONCE}", err=True)


@tenant_app.command("create")
def create(
    tenant: str = typer.Argument(
        ..., callback=checked_tenant_id, help="New tenant id: 1-64 of a-z0-9_-."
    ),
    scopes: str = typer.Option(",".join(ALL_SCOPES), "--scopes", help=_SCOPES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a tenant with a new API key and a new signing secret; print both once."""
    chosen = _scopes(scopes)
    created = with_tenants(lambda admin: admin.create(tenant, chosen))
    if as_json:
        _print_json(
            {
                "tenant": created.tenant_id,
                "keyId": created.key.key_id,
                "scopes": list(created.key.scopes),
                "apiKey": created.key.api_key,
                "signingSecret": created.signing_secret,
            }
        )
        return
    typer.echo(f"tenant '{created.tenant_id}' created")
    _print_key(created.tenant_id, created.key)
    typer.echo("signing secret for user tokens (HS256):")
    typer.echo(created.signing_secret)
    typer.echo(f"warning: {_KEY_SHOWN_ONCE}; give the signing secret to the backend", err=True)


@tenant_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the tenants and their API keys' ids, scopes and ages (never keys or secrets)."""
    listed = with_tenants(lambda admin: admin.list_tenants())
    if as_json:
        _print_json(tenants_json(listed))
    else:
        print_tenants(listed)


@tenant_app.command("add-key")
def add_key(
    tenant: str = typer.Argument(..., callback=checked_tenant_id, help="Tenant id."),
    scopes: str = typer.Option(",".join(ALL_SCOPES), "--scopes", help=_SCOPES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Give a tenant one more API key (e.g. a read-only one); its other keys keep working."""
    chosen = _scopes(scopes)
    _report_key(tenant, with_tenants(lambda admin: admin.add_key(tenant, chosen)), as_json)


@tenant_app.command("rotate-key")
def rotate_key(
    tenant: str = typer.Argument(..., callback=checked_tenant_id, help="Tenant id."),
    key_id: str | None = typer.Option(
        None, "--key-id", help="Replace only this key (same id). Default: revoke every key."
    ),
    scopes: str | None = typer.Option(
        None, "--scopes", help=f"{_SCOPES_HELP} Default: the replaced key's, or all."
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Without --key-id: revoke every key without asking first."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a new API key and revoke the old one(s).

    With --key-id, that key alone is replaced and the new key keeps its id and scopes.
    Without it, every key of the tenant is revoked (`bootstrap` too) and one new key is
    issued: the move when a key leaked. That asks first, unless --yes.
    """
    chosen = None if scopes is None else _scopes(scopes)
    if key_id is None and not yes:
        _confirm_revoking_every_key(tenant)
    issued = with_tenants(lambda admin: admin.rotate_key(tenant, key_id, chosen))
    if not as_json:
        revoked = f"key '{key_id}'" if key_id else "every previous key"
        typer.echo(f"revoked {revoked} of tenant '{tenant}'")
    _report_key(tenant, issued, as_json)


def _confirm_revoking_every_key(tenant: str) -> None:
    """Ask on the terminal; with no answer to read (a script, no stdin) refuse with code 2."""
    question = f"Revoke EVERY API key of tenant '{tenant}' (its apps stop working until updated)?"
    try:
        confirmed = typer.confirm(question, default=False, err=True)
    except typer.Abort:
        raise typer.BadParameter(
            "no answer to read: pass --yes to revoke every key without asking, "
            "or --key-id K to replace one key",
            param_hint="--yes",
        ) from None
    if not confirmed:
        typer.echo("nothing revoked", err=True)
        raise typer.Exit(EXIT_CONFLICT)


@tenant_app.command("rotate-secret")
def rotate_secret(
    tenant: str = typer.Argument(..., callback=checked_tenant_id, help="Tenant id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Give a tenant a new signing secret: user tokens signed with the old one stop working.

    Gateways may accept old tokens for up to PROGRESS_AUTH_CACHE_SECONDS more.
    """
    secret = with_tenants(lambda admin: admin.rotate_secret(tenant))
    if as_json:
        _print_json({"tenant": tenant, "signingSecret": secret})
        return
    typer.echo(f"new signing secret of tenant '{tenant}' (HS256):")
    typer.echo(secret)
    typer.echo("warning: user tokens signed with the previous secret no longer work", err=True)


@tenant_app.command("bootstrap")
def bootstrap() -> None:
    """Create the tenant named by PROGRESS_BOOTSTRAP_TENANT if it is missing.

    A tenant that exists is left as it is (keys and secret): safe to run at every deploy,
    it never undoes a rotation.
    """
    settings = load_settings()
    created = run_command(bootstrap_tenant(settings), refused=(ValueError,))
    if created:
        typer.echo(f"tenant '{settings.bootstrap_tenant}' created with key 'bootstrap'")
    else:
        typer.echo(
            f"tenant '{settings.bootstrap_tenant}' exists: left as it is (keys and secret kept)"
        )


def _user(value: str) -> str:
    if not is_valid_id(value):
        raise typer.BadParameter("a userId is 1-128 printable characters without whitespace")
    return value


def token(
    tenant: str = typer.Option(..., "--tenant", callback=checked_tenant_id, help="Tenant id."),
    user: str = typer.Option(..., "--user", callback=_user, help="The user (the token's sub)."),
    ttl: int = typer.Option(3600, "--ttl", min=1, help="Lifetime in seconds."),
) -> None:
    """Print a user token (HS256 JWT) signed with the tenant's current signing secret.

    The token lets one user read and write their own progress; handy for trying the API
    as a user, or for a support session. Apps' backends mint their own the same way. A
    lifetime over `PROGRESS_USER_TOKEN_MAX_LIFETIME_SECONDS` is refused, as the gateway would.
    """
    longest = load_settings().user_token_max_lifetime_seconds
    if ttl > longest:
        raise typer.BadParameter(
            f"at most {longest} seconds (PROGRESS_USER_TOKEN_MAX_LIFETIME_SECONDS)",
            param_hint="'--ttl'",
        )
    secret = with_tenants(lambda admin: admin.signing_secret(tenant))
    typer.echo(mint_user_token(secret, tenant, user, timedelta(seconds=ttl), datetime.now(UTC)))

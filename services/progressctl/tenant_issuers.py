"""`progressctl tenant issuer add|list|remove`: the identity providers a tenant trusts.

A trusted issuer's tokens (RS256, ES256, EdDSA) are accepted as user tokens beside the
tenant's HS256 ones (docs/identity.md). Exit codes as for the other tenant commands: 1 for
an unknown tenant or issuer or an (`iss`, `aud`) pair already taken, 2 for bad usage.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from services.progressctl.common import checked_tenant_id, load_settings, with_database
from shared.adapters.issuer_records import (
    ISSUER_ALGORITHMS,
    TrustedIssuer,
    valid_algorithms,
    valid_inline_jwks,
    valid_issuer_name,
    valid_jwks_url,
)
from shared.adapters.issuers import MongoIssuerStore
from shared.domain.tenants import TenantError

__all__ = ["issuer_app"]

T = TypeVar("T")

issuer_app = typer.Typer(
    help="Identity providers whose tokens a tenant accepts (docs/identity.md).",
    no_args_is_help=True,
)

_MAX_INLINE_JWKS_BYTES = 64 * 1024


def _checked(value: str, option: str) -> str:
    """An `iss`, `aud`, claim name or prefix option's value, or bad usage naming the option."""
    try:
        return valid_issuer_name(value, option)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=f"'{option}'") from error


def _key_source(jwks_url: str | None, jwks_file: Path | None) -> tuple[str | None, str | None]:
    """Exactly one of a checked JWKS URL and a checked inline key set (read from the file)."""
    if (jwks_url is None) == (jwks_file is None):
        raise typer.BadParameter(
            "give exactly one of --jwks-url and --jwks-file", param_hint="'--jwks-url'"
        )
    if jwks_url is not None:
        allow_http = load_settings().jwks_allow_loopback_http
        try:
            return valid_jwks_url(jwks_url, allow_http), None
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--jwks-url'") from error
    assert jwks_file is not None
    try:
        text = jwks_file.read_text(encoding="utf-8")
        if len(text.encode()) > _MAX_INLINE_JWKS_BYTES:
            raise ValueError(f"the inline JWKS is over {_MAX_INLINE_JWKS_BYTES} bytes")
        return None, valid_inline_jwks(text)
    except (OSError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="'--jwks-file'") from error


def _issuer_json(issuer: TrustedIssuer) -> dict[str, Any]:
    return {
        "tenant": issuer.tenant_id,
        "issuer": issuer.issuer,
        "audiences": list(issuer.audiences),
        "algorithms": list(issuer.algorithms),
        "jwksUrl": issuer.jwks_url,
        "inlineJwks": issuer.jwks_json is not None,
        "userClaim": issuer.user_claim,
        "userPrefix": issuer.user_prefix,
    }


def _with_issuers(operation: Callable[[MongoIssuerStore], Awaitable[T]]) -> T:
    """Run `operation` on the issuer store; an unknown tenant or issuer, or a taken pair, is 1."""
    return with_database(
        lambda opened: operation(MongoIssuerStore(opened.db)), refused=(TenantError,)
    )


@issuer_app.command("add")
def add(
    tenant: Annotated[str, typer.Argument(callback=checked_tenant_id, help="Tenant id.")],
    issuer: Annotated[str, typer.Option("--issuer", help="The tokens' 'iss', exactly.")],
    audiences: Annotated[
        list[str], typer.Option("--audience", help="An accepted 'aud' (repeat for more).")
    ],
    jwks_url: Annotated[
        str | None, typer.Option("--jwks-url", help="Where the issuer publishes its keys (https).")
    ] = None,
    jwks_file: Annotated[
        Path | None,
        typer.Option("--jwks-file", help="A file with the public key set, for air-gapped setups."),
    ] = None,
    algorithms: Annotated[
        str,
        typer.Option("--algorithms", help=f"Comma-separated, from: {','.join(ISSUER_ALGORITHMS)}."),
    ] = "RS256",
    user_claim: Annotated[
        str, typer.Option("--user-claim", help="The claim holding the userId.")
    ] = "sub",
    user_prefix: Annotated[
        str,
        typer.Option(
            "--user-prefix", help="Put before the claim's value, so issuers never share users."
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Trust an issuer's tokens for a tenant; refused if another tenant holds an (iss, aud)."""
    try:
        chosen = valid_algorithms(name.strip() for name in algorithms.split(",") if name.strip())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--algorithms'") from error
    url, inline = _key_source(jwks_url, jwks_file)
    trusted = TrustedIssuer(
        tenant_id=tenant,
        issuer=_checked(issuer, "--issuer"),
        audiences=tuple(dict.fromkeys(_checked(name, "--audience") for name in audiences)),
        algorithms=chosen,
        jwks_url=url,
        jwks_json=inline,
        user_claim=_checked(user_claim, "--user-claim"),
        user_prefix=user_prefix and _checked(user_prefix, "--user-prefix"),
    )
    _with_issuers(lambda store: store.add(trusted))
    if as_json:
        typer.echo(json.dumps(_issuer_json(trusted), indent=2))
        return
    typer.echo(f"tenant '{tenant}' now trusts issuer '{trusted.issuer}'")


@issuer_app.command("list")
def list_(
    tenant: str = typer.Argument(..., callback=checked_tenant_id, help="Tenant id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the issuers a tenant trusts: audiences, algorithms, key source, user claim."""
    issuers = _with_issuers(lambda store: store.of_tenant(tenant))
    if as_json:
        typer.echo(json.dumps([_issuer_json(issuer) for issuer in issuers], indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("issuer", "audiences", "algorithms", "keys", "userId"):
        table.add_column(header, overflow="fold")
    for issuer in issuers:
        table.add_row(
            issuer.issuer,
            ", ".join(issuer.audiences),
            ",".join(issuer.algorithms),
            issuer.jwks_url or "inline JWKS",
            f"{issuer.user_prefix}<{issuer.user_claim}>",
        )
    Console(highlight=False).print(table)


@issuer_app.command("remove")
def remove(
    tenant: str = typer.Argument(..., callback=checked_tenant_id, help="Tenant id."),
    issuer: str = typer.Option(..., "--issuer", help="The 'iss' to stop trusting."),
) -> None:
    """Stop trusting an issuer; gateways refuse its tokens within PROGRESS_AUTH_CACHE_SECONDS."""
    _with_issuers(lambda store: store.remove(tenant, issuer))
    typer.echo(f"tenant '{tenant}' no longer trusts issuer '{issuer}'")

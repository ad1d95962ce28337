"""`progressctl tenant …` and `progressctl token` on the real database (a fresh one per test)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from bson import json_util
from pymongo import MongoClient
from typer.testing import CliRunner, Result

from services.progressctl.cli import app
from shared.adapters.embedded import free_port
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.tenants import MongoTenantStore, mongo_tenants
from shared.domain.tenants import ApiKeyGrant, hash_api_key
from tests.support.key_server import signing_key

pytestmark = pytest.mark.integration


@dataclass
class Cli:
    """`progressctl` pointed at one database of the session's MongoDB."""

    settings: Settings
    runner: CliRunner

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, answer: str | None = None
    ) -> Result:
        environment = {
            "PROGRESS_MONGO_URL": self.settings.mongo_url,
            "PROGRESS_MONGO_DATABASE": self.settings.mongo_database,
            "PROGRESS_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            **(env or {}),
        }
        return self.runner.invoke(app, list(args), env=environment, input=answer)

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def grant(self, api_key: str) -> ApiKeyGrant | None:
        return asyncio.run(self._grant(api_key))

    async def _grant(self, api_key: str) -> ApiKeyGrant | None:
        client = mongo_client(self.settings)
        try:
            return await MongoTenantStore(client[self.settings.mongo_database]).grant_for_hash(
                hash_api_key(api_key)
            )
        finally:
            await client.close()

    def raw_tenants(self) -> str:
        """The tenants collection exactly as stored, as one string."""
        with MongoClient(self.settings.mongo_url) as client:
            documents = list(client[self.settings.mongo_database]["tenants"].find())
        return json_util.dumps(documents)

    def secret(self, tenant: str) -> str:
        with MongoClient(self.settings.mongo_url) as client:
            document = client[self.settings.mongo_database]["tenants"].find_one({"_id": tenant})
        assert document is not None
        return str(document["signingSecret"])


@pytest.fixture
def cli(settings: Settings) -> Iterator[Cli]:
    scoped = settings.model_copy(update={"mongo_database": f"tenants_{uuid.uuid4().hex[:8]}"})
    yield Cli(scoped, CliRunner())
    with MongoClient(settings.mongo_url) as client:
        client.drop_database(scoped.mongo_database)


def _access(grant: ApiKeyGrant | None) -> tuple[str, frozenset[str]] | None:
    """The tenant and scopes a key grants, leaving aside which key id it carries."""
    return None if grant is None else (grant.tenant_id, grant.scopes)


def test_create_hands_out_a_working_key_once_and_stores_only_its_hash(cli: Cli) -> None:
    created = cli.json("tenant", "create", "acme")

    api_key = created["apiKey"]
    assert created["tenant"] == "acme"
    assert created["scopes"] == ["write", "read", "admin"]
    assert api_key.startswith("psk_")
    assert len(api_key) >= len("psk_") + 43  # 32 random bytes, base64url
    assert cli.grant(api_key) == ApiKeyGrant(
        "acme", frozenset({"write", "read", "admin"}), created["keyId"]
    )
    stored = cli.raw_tenants()
    assert api_key not in stored
    assert api_key.removeprefix("psk_") not in stored
    assert hash_api_key(api_key) in stored
    assert cli.secret("acme") == created["signingSecret"]
    assert len(created["signingSecret"]) >= 64  # 48 random bytes, base64url


def test_create_in_text_prints_the_key_with_a_warning_and_honours_scopes(cli: Cli) -> None:
    result = cli("tenant", "create", "reader-1", "--scopes", "read")

    assert result.exit_code == 0, result.output
    api_key = next(line for line in result.stdout.splitlines() if line.startswith("psk_"))
    assert "will not be shown again" in result.stderr
    assert _access(cli.grant(api_key)) == ("reader-1", frozenset({"read"}))


def test_create_twice_is_refused_and_leaves_the_tenant_as_it_was(cli: Cli) -> None:
    first = cli.json("tenant", "create", "acme")

    again = cli("tenant", "create", "acme")

    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert cli.grant(first["apiKey"]) is not None
    assert cli.secret("acme") == first["signingSecret"]


@pytest.mark.parametrize(
    "args",
    [
        ["tenant", "create", "Not_Lower"],
        ["tenant", "create", "a" * 65],
        ["tenant", "create", "acme", "--scopes", "read,delete"],
        ["tenant", "create", "acme", "--scopes", ","],
        ["token", "--tenant", "acme", "--user", "u1", "--ttl", "0"],
        ["token", "--tenant", "acme", "--user", "two words"],
    ],
)
def test_bad_usage_exits_2_and_changes_nothing(cli: Cli, args: list[str]) -> None:
    result = cli(*args)

    assert result.exit_code == 2, result.output
    assert cli.raw_tenants() == "[]"


def test_list_shows_keys_ids_and_scopes_but_no_key_hash_or_secret(cli: Cli) -> None:
    acme = cli.json("tenant", "create", "acme")
    reader = cli.json("tenant", "add-key", "acme", "--scopes", "read")
    beta = cli.json("tenant", "create", "beta", "--scopes", "write")

    listed = cli.json("tenant", "list")
    table = cli("tenant", "list")

    assert [tenant["tenant"] for tenant in listed] == ["acme", "beta"]
    assert [(key["keyId"], key["scopes"]) for key in listed[0]["keys"]] == [
        (acme["keyId"], ["write", "read", "admin"]),
        (reader["keyId"], ["read"]),
    ]
    assert listed[0]["createdAt"]
    assert all(key["createdAt"] for key in listed[0]["keys"])
    assert table.exit_code == 0, table.output
    for key_id in (acme["keyId"], reader["keyId"], beta["keyId"]):
        assert key_id in table.stdout
    shown = json.dumps(listed) + table.stdout
    for secret in (acme, reader, beta):
        assert secret["apiKey"] not in shown
        assert hash_api_key(secret["apiKey"]) not in shown
    assert acme["signingSecret"] not in shown
    assert beta["signingSecret"] not in shown


def test_rotate_one_key_revokes_only_it_and_keeps_its_id_and_scopes(cli: Cli) -> None:
    admin = cli.json("tenant", "create", "acme")
    reader = cli.json("tenant", "add-key", "acme", "--scopes", "read")

    rotated = cli.json("tenant", "rotate-key", "acme", "--key-id", reader["keyId"])

    assert rotated["keyId"] == reader["keyId"]
    assert cli.grant(reader["apiKey"]) is None
    assert cli.grant(rotated["apiKey"]) == ApiKeyGrant("acme", frozenset({"read"}), reader["keyId"])
    assert cli.grant(admin["apiKey"]) is not None
    assert len(cli.json("tenant", "list")[0]["keys"]) == 2


def test_rotate_without_key_id_asks_then_revokes_every_key_and_issues_one(cli: Cli) -> None:
    admin = cli.json("tenant", "create", "acme")
    reader = cli.json("tenant", "add-key", "acme", "--scopes", "read")

    result = cli("tenant", "rotate-key", "acme", answer="y\n")

    assert result.exit_code == 0, result.output
    assert "Revoke EVERY API key of tenant 'acme'" in result.stderr
    new_key = next(line for line in result.stdout.splitlines() if line.startswith("psk_"))
    assert cli.grant(admin["apiKey"]) is None
    assert cli.grant(reader["apiKey"]) is None
    assert _access(cli.grant(new_key)) == ("acme", frozenset({"write", "read", "admin"}))
    assert len(cli.json("tenant", "list")[0]["keys"]) == 1


@pytest.mark.parametrize(("answer", "code"), [(None, 2), ("n\n", 1), ("\n", 1)])
def test_revoking_every_key_unconfirmed_revokes_nothing(
    cli: Cli, answer: str | None, code: int
) -> None:
    created = cli.json("tenant", "create", "acme")
    before = cli.raw_tenants()

    result = cli("tenant", "rotate-key", "acme", answer=answer)

    assert result.exit_code == code, result.output
    assert "psk_" not in result.stdout
    if answer is None:
        assert "pass --yes" in result.output
    assert cli.raw_tenants() == before
    assert cli.grant(created["apiKey"]) is not None


def test_revoking_every_key_with_yes_does_not_ask(cli: Cli) -> None:
    created = cli.json("tenant", "create", "acme")

    rotated = cli.json("tenant", "rotate-key", "acme", "--yes")

    assert cli.grant(created["apiKey"]) is None
    assert cli.grant(rotated["apiKey"]) is not None


def test_token_is_a_pyjwt_hs256_token_for_that_user_and_tenant(cli: Cli) -> None:
    cli.json("tenant", "create", "acme")

    result = cli("token", "--tenant", "acme", "--user", "learner-7", "--ttl", "120")

    assert result.exit_code == 0, result.output
    claims = jwt.decode(
        result.stdout.strip(),
        cli.secret("acme"),
        algorithms=["HS256"],
        options={"require": ["sub", "tid", "iat", "exp"]},
    )
    assert (claims["sub"], claims["tid"]) == ("learner-7", "acme")
    assert claims["exp"] - claims["iat"] == timedelta(seconds=120).total_seconds()


def test_token_longer_than_the_gateway_accepts_is_refused(cli: Cli) -> None:
    cli.json("tenant", "create", "acme")

    result = cli("token", "--tenant", "acme", "--user", "learner-7", "--ttl", "86401")

    assert result.exit_code == 2
    assert "PROGRESS_USER_TOKEN_MAX_LIFETIME_SECONDS" in result.output


def test_rotate_secret_invalidates_tokens_signed_with_the_old_one(cli: Cli) -> None:
    cli.json("tenant", "create", "acme")
    old_token = cli("token", "--tenant", "acme", "--user", "u1").stdout.strip()

    rotated = cli.json("tenant", "rotate-secret", "acme")
    new_token = cli("token", "--tenant", "acme", "--user", "u1").stdout.strip()

    assert cli.secret("acme") == rotated["signingSecret"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(old_token, rotated["signingSecret"], algorithms=["HS256"])
    assert jwt.decode(new_token, rotated["signingSecret"], algorithms=["HS256"])["sub"] == "u1"


@pytest.mark.parametrize(
    "args",
    [
        ["tenant", "add-key", "nobody"],
        ["tenant", "rotate-key", "nobody", "--yes"],
        ["tenant", "rotate-key", "nobody", "--key-id", "bootstrap"],
        ["tenant", "rotate-secret", "nobody"],
        ["token", "--tenant", "nobody", "--user", "u1"],
    ],
)
def test_unknown_tenant_exits_1(cli: Cli, args: list[str]) -> None:
    result = cli(*args)

    assert result.exit_code == 1, result.output
    assert "no tenant 'nobody'" in result.stderr


def test_unknown_key_exits_1_and_revokes_nothing(cli: Cli) -> None:
    created = cli.json("tenant", "create", "acme")

    result = cli("tenant", "rotate-key", "acme", "--key-id", "no-such-key")

    assert result.exit_code == 1
    assert "no API key 'no-such-key'" in result.stderr
    assert cli.grant(created["apiKey"]) is not None


BOOT = {"PROGRESS_BOOTSTRAP_TENANT": "boot", "PROGRESS_BOOTSTRAP_API_KEY": "boot-key-123"}


def test_bootstrap_creates_the_configured_tenant_when_it_is_missing(cli: Cli) -> None:
    result = cli("tenant", "bootstrap", env=BOOT)

    assert result.exit_code == 0, result.output
    assert "created" in result.stdout
    assert _access(cli.grant("boot-key-123")) == ("boot", frozenset({"write", "read", "admin"}))
    default = Settings.model_fields["bootstrap_signing_secret"].default
    assert cli.secret("boot") == default.get_secret_value()


def test_bootstrap_never_resets_an_existing_tenant(cli: Cli) -> None:
    assert cli("tenant", "bootstrap", env=BOOT).exit_code == 0
    rotated = cli.json("tenant", "rotate-key", "boot", "--yes")
    secret = cli.json("tenant", "rotate-secret", "boot")["signingSecret"]
    before = cli.raw_tenants()

    again = cli("tenant", "bootstrap", env=BOOT)
    other = cli("tenant", "bootstrap", env={**BOOT, "PROGRESS_BOOTSTRAP_API_KEY": "other-key"})

    assert again.exit_code == other.exit_code == 0, again.output + other.output
    assert "left as it is" in again.stdout
    assert cli.raw_tenants() == before
    assert cli.grant("boot-key-123") is None
    assert cli.grant("other-key") is None
    assert cli.grant(rotated["apiKey"]) is not None
    assert cli.secret("boot") == secret


def test_a_short_signing_secret_is_refused_without_being_printed(cli: Cli) -> None:
    short = "x" * 31

    result = cli("tenant", "bootstrap", env={**BOOT, "PROGRESS_BOOTSTRAP_SIGNING_SECRET": short})

    assert result.exit_code == 2, result.output
    assert "PROGRESS_BOOTSTRAP_SIGNING_SECRET" in result.stderr
    assert "at least 32 bytes" in result.stderr
    assert short not in result.output
    assert cli.raw_tenants() == "[]"
    exact = cli("tenant", "bootstrap", env={**BOOT, "PROGRESS_BOOTSTRAP_SIGNING_SECRET": "é" * 16})
    assert exact.exit_code == 0, exact.output  # 32 bytes in UTF-8


@pytest.mark.parametrize("method", ["create_if_missing", "reset_credentials"])
def test_the_tenant_store_refuses_a_short_signing_secret(cli: Cli, method: str) -> None:
    async def set_short_secret() -> None:
        client = mongo_client(cli.settings)
        try:
            store = mongo_tenants(client[cli.settings.mongo_database])
            await getattr(store, method)("boot", "boot-key-123", "s" * 31)
        finally:
            await client.close()

    with pytest.raises(ValueError, match="at least 32 bytes"):
        asyncio.run(set_short_secret())
    assert cli.raw_tenants() == "[]"


def test_database_unavailable_exits_3(cli: Cli) -> None:
    result = cli(
        "tenant",
        "list",
        env={
            "PROGRESS_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}",
            "PROGRESS_MONGO_TIMEOUT_MS": "200",
        },
    )

    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error:")


ISSUER = "https://idp.example/"
JWKS_URL = "https://idp.example/.well-known/jwks.json"


def _add_issuer(
    cli: Cli, tenant: str, *extra: str, audience: str = "app", env: dict[str, str] | None = None
) -> Result:
    return cli(
        "tenant", "issuer", "add", tenant, "--issuer", ISSUER, "--audience", audience, *extra,
        env=env,
    )  # fmt: skip


def _usage_error(result: Result) -> str:
    """Typer's boxed usage error as one line of words (the box wraps long messages)."""
    return " ".join(result.stderr.replace("│", " ").split())


def test_issuer_add_list_remove(cli: Cli) -> None:
    cli.json("tenant", "create", "acme")

    added = _add_issuer(
        cli, "acme", "--jwks-url", JWKS_URL, "--algorithms", "ES256,RS256",
        "--user-prefix", "idp:", "--audience", "admin-app",
    )  # fmt: skip
    listed = cli.json("tenant", "issuer", "list", "acme")
    table = cli("tenant", "issuer", "list", "acme", env={"COLUMNS": "200"})
    removed = cli("tenant", "issuer", "remove", "acme", "--issuer", ISSUER)

    assert added.exit_code == 0, added.output
    assert listed == [
        {
            "tenant": "acme",
            "issuer": ISSUER,
            "audiences": ["app", "admin-app"],
            "algorithms": ["RS256", "ES256"],
            "jwksUrl": JWKS_URL,
            "inlineJwks": False,
            "userClaim": "sub",
            "userPrefix": "idp:",
        }
    ]
    assert ISSUER in table.stdout
    assert "idp:<sub>" in table.stdout
    assert removed.exit_code == 0, removed.output
    assert cli.json("tenant", "issuer", "list", "acme") == []
    assert cli("tenant", "issuer", "remove", "acme", "--issuer", ISSUER).exit_code == 1


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--jwks-url", JWKS_URL, "--algorithms", "none"], "never 'none' or HS*"),
        (["--jwks-url", JWKS_URL, "--algorithms", "RS256,HS256"], "never 'none' or HS*"),
        (["--jwks-url", "http://idp.example/jwks"], "must use https"),
        (["--jwks-url", "http://127.0.0.1:9/jwks"], "must use https"),
        ([], "exactly one of --jwks-url and --jwks-file"),
    ],
    ids=["alg none", "an HMAC algorithm", "plain http", "loopback http not allowed", "no keys"],
)
def test_issuer_add_refuses_unsafe_configurations(
    cli: Cli, args: list[str], complaint: str
) -> None:
    cli.json("tenant", "create", "acme")

    refused = _add_issuer(cli, "acme", *args)

    assert refused.exit_code == 2
    assert complaint in _usage_error(refused)
    assert cli.json("tenant", "issuer", "list", "acme") == []


def test_loopback_http_is_accepted_only_with_the_test_setting(cli: Cli) -> None:
    cli.json("tenant", "create", "acme")
    url = "http://127.0.0.1:9/jwks"

    added = _add_issuer(
        cli, "acme", "--jwks-url", url, env={"PROGRESS_JWKS_ALLOW_LOOPBACK_HTTP": "true"}
    )

    assert added.exit_code == 0, added.output


def test_issuer_add_refuses_a_pair_another_tenant_holds(cli: Cli) -> None:
    cli.json("tenant", "create", "acme")
    cli.json("tenant", "create", "globex")
    assert _add_issuer(cli, "acme", "--jwks-url", JWKS_URL).exit_code == 0

    taken = _add_issuer(
        cli, "globex", "--jwks-url", JWKS_URL, "--audience", "globex-app", audience="app"
    )
    own_audience = _add_issuer(cli, "globex", "--jwks-url", JWKS_URL, audience="globex-app")

    assert taken.exit_code == 1
    assert "already trusted by another tenant" in taken.stderr
    assert own_audience.exit_code == 0, own_audience.output
    assert [issuer["audiences"] for issuer in cli.json("tenant", "issuer", "list", "globex")] == [
        ["globex-app"]
    ]


def test_issuer_add_takes_an_inline_key_set_of_public_keys_only(cli: Cli, tmp_path: Path) -> None:
    cli.json("tenant", "create", "acme")
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"keys": [signing_key("ES256").public_jwk]}))
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))

    refused = _add_issuer(cli, "acme", "--jwks-file", str(private), "--algorithms", "ES256")
    added = _add_issuer(cli, "acme", "--jwks-file", str(public), "--algorithms", "ES256")

    assert refused.exit_code == 2
    assert "RSA, EC or OKP public key" in _usage_error(refused)
    assert added.exit_code == 0, added.output
    assert cli.json("tenant", "issuer", "list", "acme")[0]["inlineJwks"] is True


def test_issuer_add_for_an_unknown_tenant_is_refused(cli: Cli) -> None:
    refused = _add_issuer(cli, "nobody", "--jwks-url", JWKS_URL)

    assert refused.exit_code == 1
    assert "no tenant 'nobody'" in refused.stderr

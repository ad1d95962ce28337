"""Tenant management's use cases on the fake store: what create, rotate and bootstrap change."""

from __future__ import annotations

import pytest

from shared.domain.tenants import (
    ALL_SCOPES,
    ApiKeyGrant,
    KeyNotFound,
    KeySummary,
    TenantExists,
    TenantNotFound,
    TenantSummary,
    hash_api_key,
)
from shared.service_layer.tenants import TenantAdmin
from shared.xapi import XapiProfile
from tests.fakes import FixedClock, InMemoryTenantStore

pytestmark = pytest.mark.unit

BOOT_KEY, BOOT_SECRET = "boot-key-0123456789", "s" * 40


@pytest.fixture
def store() -> InMemoryTenantStore:
    return InMemoryTenantStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def admin(store: InMemoryTenantStore, clock: FixedClock) -> TenantAdmin:
    return TenantAdmin(store, clock)


async def grant(store: InMemoryTenantStore, api_key: str) -> ApiKeyGrant | None:
    return await store.grant_for_hash(hash_api_key(api_key))


async def test_create_hands_out_a_key_and_secret_and_stores_only_the_keys_hash(
    admin: TenantAdmin, store: InMemoryTenantStore, clock: FixedClock
) -> None:
    created = await admin.create("acme", ["admin", "read", "read"])

    assert created.key.api_key.startswith("psk_")
    assert created.key.scopes == ("read", "admin"), "distinct, in the canonical order"
    assert await grant(store, created.key.api_key) == ApiKeyGrant(
        "acme", frozenset({"read", "admin"}), created.key.key_id
    )
    assert await store.signing_secret("acme") == created.signing_secret
    assert created.key.api_key not in repr(store.tenants)
    assert created.signing_secret not in repr(created), "kept out of logs and tracebacks"
    key = KeySummary(created.key.key_id, ("read", "admin"), clock.now())
    assert await admin.list_tenants() == [TenantSummary("acme", clock.now(), (key,))]


async def test_creating_a_tenant_again_is_refused_and_leaves_it_as_it_was(
    admin: TenantAdmin, store: InMemoryTenantStore
) -> None:
    first = await admin.create("acme")

    with pytest.raises(TenantExists, match="'acme' already exists"):
        await admin.create("acme", ["read"])

    assert await store.signing_secret("acme") == first.signing_secret
    assert await grant(store, first.key.api_key) is not None


@pytest.mark.parametrize(
    ("tenant_id", "scopes", "problem"),
    [
        ("Acme", ALL_SCOPES, "invalid tenant id 'Acme'"),
        ("a" * 65, ALL_SCOPES, "invalid tenant id"),
        ("acme", ["read", "delete"], "unknown scope"),
        ("acme", [], "at least one scope"),
    ],
)
async def test_create_refuses_a_bad_id_or_scope_and_stores_nothing(
    admin: TenantAdmin, tenant_id: str, scopes: list[str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        await admin.create(tenant_id, scopes)
    assert await admin.list_tenants() == []


async def test_an_added_key_works_beside_the_others(
    admin: TenantAdmin, store: InMemoryTenantStore
) -> None:
    first = await admin.create("acme")

    added = await admin.add_key("acme", ["read"])

    assert added.key_id != first.key.key_id
    assert await grant(store, added.api_key) == ApiKeyGrant(
        "acme", frozenset({"read"}), added.key_id
    )
    assert await grant(store, first.key.api_key) is not None
    with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
        await admin.add_key("nobody")
    with pytest.raises(ValueError, match="unknown scope"):
        await admin.add_key("acme", ["everything"])


async def test_rotating_one_key_keeps_its_id_and_scopes_and_revokes_only_it(
    admin: TenantAdmin, store: InMemoryTenantStore, clock: FixedClock
) -> None:
    first = await admin.create("acme")
    reader = await admin.add_key("acme", ["read"])
    clock.advance(60)

    rotated = await admin.rotate_key("acme", reader.key_id)

    assert (rotated.key_id, rotated.scopes) == (reader.key_id, ("read",))
    assert await grant(store, reader.api_key) is None
    assert await grant(store, rotated.api_key) == ApiKeyGrant(
        "acme", frozenset({"read"}), reader.key_id
    )
    assert await grant(store, first.key.api_key) is not None
    summary = await store.summary("acme")
    assert summary is not None
    assert summary.keys[1] == KeySummary(reader.key_id, ("read",), clock.now())
    narrowed = await admin.rotate_key("acme", first.key.key_id, ["write"])
    assert (narrowed.key_id, narrowed.scopes) == (first.key.key_id, ("write",))


async def test_rotating_every_key_revokes_them_all_for_one_new_key(
    admin: TenantAdmin, store: InMemoryTenantStore
) -> None:
    await admin.create_if_missing("acme", BOOT_KEY, BOOT_SECRET)
    other = await admin.add_key("acme", ["read"])

    issued = await admin.rotate_key("acme")

    assert issued.key_id not in {"bootstrap", other.key_id}
    assert issued.scopes == ALL_SCOPES
    assert [await grant(store, k) for k in (BOOT_KEY, other.api_key)] == [None, None]
    assert await grant(store, issued.api_key) is not None
    assert (await admin.rotate_key("acme", scopes=["read"])).scopes == ("read",)


async def test_rotating_a_key_of_an_unknown_tenant_or_id_is_refused(admin: TenantAdmin) -> None:
    await admin.create("acme")

    with pytest.raises(KeyNotFound, match="tenant 'acme' has no API key 'key-nope'"):
        await admin.rotate_key("acme", "key-nope")
    for key_id in (None, "bootstrap"):
        with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
            await admin.rotate_key("nobody", key_id)
    assert [t.tenant_id for t in await admin.list_tenants()] == ["acme"], "none made"


async def test_a_rotated_secret_replaces_the_old_one(
    admin: TenantAdmin, store: InMemoryTenantStore
) -> None:
    created = await admin.create("acme")

    secret = await admin.rotate_secret("acme")

    assert secret != created.signing_secret
    assert await admin.signing_secret("acme") == secret == await store.signing_secret("acme")
    for use_case in (admin.rotate_secret, admin.signing_secret):
        with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
            await use_case("nobody")


async def test_bootstrap_creates_a_missing_tenant_and_never_touches_an_existing_one(
    admin: TenantAdmin, store: InMemoryTenantStore
) -> None:
    assert await admin.create_if_missing("demo", BOOT_KEY, BOOT_SECRET) is True
    rotated = await admin.rotate_key("demo")

    assert await admin.create_if_missing("demo", "another-key-0123", "t" * 40) is False

    assert await grant(store, rotated.api_key) is not None
    assert await grant(store, BOOT_KEY) is None, "a redeploy never undoes a rotation"
    assert await store.signing_secret("demo") == BOOT_SECRET


async def test_the_development_reset_restores_the_bootstrap_key_and_secret_only(
    admin: TenantAdmin, store: InMemoryTenantStore
) -> None:
    await admin.reset_credentials("demo", BOOT_KEY, BOOT_SECRET)
    assert await grant(store, BOOT_KEY) == ApiKeyGrant("demo", frozenset(ALL_SCOPES), "bootstrap")
    reader = await admin.add_key("demo", ["read"])
    await admin.rotate_secret("demo")
    rotated = await admin.rotate_key("demo", "bootstrap")

    await admin.reset_credentials("demo", BOOT_KEY, BOOT_SECRET)

    assert await grant(store, BOOT_KEY) == ApiKeyGrant("demo", frozenset(ALL_SCOPES), "bootstrap")
    assert await grant(store, rotated.api_key) is None, "the key named bootstrap is replaced"
    assert await grant(store, reader.api_key) is not None, "other keys stay"
    summary = await store.summary("demo")
    assert summary is not None
    assert [k.key_id for k in summary.keys] == ["bootstrap", reader.key_id]
    assert await store.signing_secret("demo") == BOOT_SECRET
    everything = await admin.rotate_key("demo")

    await admin.reset_credentials("demo", BOOT_KEY, BOOT_SECRET)

    assert await grant(store, BOOT_KEY) is not None, "a revoked bootstrap key comes back"
    assert await grant(store, everything.api_key) is not None


@pytest.mark.parametrize("use_case", ["create_if_missing", "reset_credentials"])
async def test_bootstrap_refuses_a_short_secret_or_bad_id_and_stores_nothing(
    admin: TenantAdmin, use_case: str
) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes; this one has 31"):
        await getattr(admin, use_case)("demo", BOOT_KEY, "s" * 31)
    with pytest.raises(ValueError, match="invalid tenant id"):
        await getattr(admin, use_case)("De mo", BOOT_KEY, BOOT_SECRET)
    assert await admin.list_tenants() == []


async def test_the_xapi_profile_is_replaced_whole_and_only_for_a_known_tenant(
    admin: TenantAdmin,
) -> None:
    await admin.create("acme")
    assert await admin.xapi_profile("acme") == XapiProfile()
    chosen = XapiProfile(default_version="1.0.3")

    await admin.set_xapi_profile("acme", chosen)

    assert await admin.xapi_profile("acme") == chosen
    with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
        await admin.set_xapi_profile("nobody", chosen)
    with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
        await admin.xapi_profile("nobody")

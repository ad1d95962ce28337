"""The tenant store's contract, against the fake and MongoDB: it keeps what it is given,
finds keys by their hash only, and a write to an unknown tenant changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.mongo import TENANTS, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.tenants import MongoTenantStore
from shared.domain.tenants import (
    ApiKeyGrant,
    KeySummary,
    StoredKey,
    TenantRecord,
    TenantSummary,
)
from shared.xapi import XapiProfile
from tests.contract.conftest import Stores

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)
SECRET = "s" * 40


def key(key_id: str, digest: str, *scopes: str, at: datetime = AT) -> StoredKey:
    return StoredKey(key_id, digest, scopes or ("write", "read", "admin"), at)


def tenant(tenant_id: str, *keys: StoredKey, secret: str = SECRET) -> TenantRecord:
    return TenantRecord(tenant_id, AT, secret, keys or (key("first", f"hash-{tenant_id}"),))


def listed(stored: StoredKey) -> KeySummary:
    return KeySummary(stored.key_id, stored.scopes, stored.created_at)


async def test_a_tenant_is_inserted_once_and_listed_by_id_without_secrets(stores: Stores) -> None:
    tenants = stores.tenants
    assert await tenants.insert(tenant("zeta")) is True
    assert await tenants.insert(tenant("acme", key("k1", "h1", "read"))) is True

    assert await tenants.insert(tenant("acme", secret="t" * 40)) is False

    assert await tenants.signing_secret("acme") == SECRET, "the first one is left as it was"
    acme = TenantSummary("acme", AT, (KeySummary("k1", ("read",), AT),))
    assert await tenants.summary("acme") == acme
    assert await tenants.summary("nobody") is None
    assert [t.tenant_id for t in await tenants.summaries()] == ["acme", "zeta"]
    assert (await tenants.summaries())[0] == acme


async def test_a_key_is_found_by_its_hash_alone(stores: Stores) -> None:
    tenants = stores.tenants
    await tenants.insert(tenant("acme", key("k1", "h1", "read"), key("k2", "h2")))
    await tenants.insert(tenant("other", key("k1", "h3", "write")))

    assert await tenants.grant_for_hash("h2") == ApiKeyGrant(
        "acme", frozenset({"write", "read", "admin"}), "k2"
    )
    assert await tenants.grant_for_hash("h3") == ApiKeyGrant("other", frozenset({"write"}), "k1")
    assert await tenants.grant_for_hash("k1") is None
    assert await tenants.grant_for_hash("no-such-hash") is None


async def test_keys_are_added_after_the_others_and_replaced_in_place(stores: Stores) -> None:
    tenants = stores.tenants
    first, second = key("k1", "h1"), key("k2", "h2", "read")
    await tenants.insert(tenant("acme", first))
    assert await tenants.add_key("acme", second) is True
    replacement = key("k1", "h1-new", "write", at=LATER)

    assert await tenants.replace_key("acme", replacement) is True

    summary = await tenants.summary("acme")
    assert summary is not None
    assert summary.keys == (listed(replacement), listed(second))
    assert await tenants.grant_for_hash("h1") is None
    assert await tenants.grant_for_hash("h1-new") == ApiKeyGrant("acme", frozenset({"write"}), "k1")
    assert await tenants.replace_key("acme", key("k9", "h9")) is False
    assert await tenants.grant_for_hash("h9") is None, "no key k9 to replace: nothing stored"


async def test_replacing_all_keys_leaves_only_the_new_one(stores: Stores) -> None:
    tenants = stores.tenants
    await tenants.insert(tenant("acme", key("k1", "h1"), key("k2", "h2")))
    only = key("k3", "h3", "read", at=LATER)

    assert await tenants.replace_all_keys("acme", only) is True

    summary = await tenants.summary("acme")
    assert summary is not None
    assert summary.keys == (listed(only),)
    assert [await tenants.grant_for_hash(h) for h in ("h1", "h2")] == [None, None]


async def test_the_signing_secret_is_replaced_and_other_tenants_keep_theirs(
    stores: Stores,
) -> None:
    tenants = stores.tenants
    await tenants.insert(tenant("acme"))
    await tenants.insert(tenant("other"))

    assert await tenants.set_signing_secret("acme", "n" * 40) is True

    assert await tenants.signing_secret("acme") == "n" * 40
    assert await tenants.signing_secret("other") == SECRET
    assert await tenants.signing_secret("nobody") is None


async def test_the_xapi_profile_is_the_defaults_until_replaced_whole(stores: Stores) -> None:
    tenants = stores.tenants
    await tenants.insert(tenant("acme"))
    assert await tenants.xapi_profile("acme") == XapiProfile()
    chosen = XapiProfile(default_version="1.0.3", require_verified_signatures=True)

    assert await tenants.set_xapi_profile("acme", chosen) is True

    assert await tenants.xapi_profile("acme") == chosen
    assert await tenants.set_xapi_profile("acme", XapiProfile()) is True
    assert await tenants.xapi_profile("acme") == XapiProfile()
    assert await tenants.xapi_profile("nobody") is None


async def test_a_write_to_an_unknown_tenant_changes_nothing(stores: Stores) -> None:
    tenants = stores.tenants
    stray = key("k1", "h1")

    assert await tenants.add_key("nobody", stray) is False
    assert await tenants.replace_key("nobody", stray) is False
    assert await tenants.replace_all_keys("nobody", stray) is False
    assert await tenants.set_signing_secret("nobody", SECRET) is False
    assert await tenants.set_xapi_profile("nobody", XapiProfile()) is False

    assert await tenants.summaries() == []
    assert await tenants.grant_for_hash("h1") is None


@pytest.mark.integration
async def test_a_stored_profile_that_no_longer_validates_reads_as_the_defaults(
    settings: Settings,
) -> None:
    """Written by another version: every xAPI request of the tenant must not fail on it."""
    client = mongo_client(settings)
    db = client[f"contract_{uuid.uuid4().hex[:8]}"]
    try:
        store = MongoTenantStore(db)
        await store.insert(tenant("acme"))
        await db[TENANTS].update_one({"_id": "acme"}, {"$set": {"xapi": {"defaultVersion": 9}}})

        assert await store.xapi_profile("acme") == XapiProfile()
    finally:
        await client.drop_database(db.name)
        await client.close()

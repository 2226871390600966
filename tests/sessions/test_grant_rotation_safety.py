"""Refresh-token rotation: the SDK itself never sends a refresh token rotated away.

Under rotation a refresh token is good for one refresh, and sending a rotated-away
one revokes the whole grant for every worker (spec §9). Each test here sets up
one way the SDK used to do that (a lost token reply, a refresh outlasting the
lock, a failed grant write, an unreadable grant record, a cancelled caller) and
checks the fake org's counters: no reuse, the grant alive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import RefreshToken
from sfbulk_sdk.errors import SessionStoreError
from sfbulk_sdk.stores import AsyncFileStore, FileStore, RedisStore
from sfbulk_sdk.testing import ExternalClientApp, FakeOrg, FakeOrgTransport
from tests.servers import ServerProcess, sync_redis


def _org() -> tuple[FakeOrg, ExternalClientApp, str]:
    org = FakeOrg()
    app = org.oauth.add_app("etl", rotate_refresh_tokens=True)
    return org, app, org.oauth.issue_refresh_token(app)


def _auth(org: FakeOrg, app: ExternalClientApp, token: str) -> RefreshToken:
    return RefreshToken(
        app.client_id, token, client_secret=app.client_secret, login_url=org.instance_url
    )


def _no_reuse(org: FakeOrg) -> dict[str, Any]:
    stats: dict[str, Any] = org.oauth.stats()
    assert stats["refresh_token_reuse"] == 0
    assert stats["families_revoked"] == 0
    return stats


# --------------------------------------------------------------------------- unreadable grant


def _damage(directory: Path, damage: str) -> Path:
    (record,) = directory.glob("*.grant")
    record.write_text(DAMAGE[damage](record.read_text()))
    return record


DAMAGE: dict[str, Callable[[str], str]] = {
    "torn": lambda text: text[:40],
    "newer-version": lambda text: '{"v": 2, "kind": "grant", "grant": {}}',
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_an_unreadable_grant_record_is_not_started_over_from_the_first_token(
    tmp_path: Path, damage: str
) -> None:
    org, app, token = _org()
    store = FileStore(tmp_path)
    with Bulk(auth=_auth(org, app, token), store=store, transport=FakeOrgTransport(org)) as bulk:
        bulk.create_job("insert", "Account")  # one rotation: the first token is dead
    record = _damage(tmp_path, damage)
    org.expire_sessions()
    with (
        Bulk(auth=_auth(org, app, token), store=store, transport=FakeOrgTransport(org)) as bulk,
        pytest.raises(SessionStoreError) as caught,
    ):
        bulk.create_job("insert", "Account")
    message = str(caught.value)
    assert record.name in message and "Re-authorise" in message and "delete" in message
    assert token not in message
    stats = _no_reuse(org)
    assert stats["grants"]["refresh_token"]["requests"] == 1


@pytest.mark.anyio
async def test_an_unreadable_grant_record_is_refused_async(tmp_path: Path) -> None:
    org, app, token = _org()
    store = AsyncFileStore(tmp_path)
    async with AsyncBulk(
        auth=_auth(org, app, token), store=store, transport=FakeOrgTransport(org)
    ) as bulk:
        await bulk.create_job("insert", "Account")
    _damage(tmp_path, "newer-version")
    org.expire_sessions()
    async with AsyncBulk(
        auth=_auth(org, app, token), store=store, transport=FakeOrgTransport(org)
    ) as bulk:
        with pytest.raises(SessionStoreError, match="cannot be read"):
            await bulk.create_job("insert", "Account")
    _no_reuse(org)


def test_an_unreadable_grant_record_in_redis_is_refused(redis_server: ServerProcess) -> None:
    org, app, token = _org()
    client = sync_redis(redis_server)
    prefix = f"grant-safety-{id(org)}:"
    try:
        store = RedisStore(client)
        options: Any = {"key_prefix": prefix}
        auth = _auth(org, app, token)
        with Bulk(
            auth=auth, store=store, transport=FakeOrgTransport(org), session_options=options
        ) as bulk:
            bulk.create_job("insert", "Account")
        (name,) = client.keys(f"{prefix}*:grant")
        client.set(name, json.dumps({"v": 1, "kind": "grant", "grant": {"v": 1}}))
        org.expire_sessions()
        with (
            Bulk(
                auth=auth, store=store, transport=FakeOrgTransport(org), session_options=options
            ) as bulk,
            pytest.raises(SessionStoreError, match="redis store"),
        ):
            bulk.create_job("insert", "Account")
        _no_reuse(org)
        client.delete(*client.keys(f"{prefix}*"))
    finally:
        client.close()

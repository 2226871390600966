"""Refresh-token rotation: the SDK itself never sends a refresh token rotated away.

Under rotation a refresh token is good for one refresh, and sending a rotated-away
one revokes the whole grant for every worker (spec §9). Each test here sets up
one way the SDK used to do that (a lost token reply, a refresh outlasting the
lock, a failed grant write, an unreadable grant record, a cancelled caller) and
checks the fake org's counters: no reuse, the grant alive.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import RefreshToken
from sfbulk_sdk.core.grants import GrantRecord
from sfbulk_sdk.errors import InvalidInputError, SessionError, SessionStoreError
from sfbulk_sdk.sessions import SessionManager
from sfbulk_sdk.stores import AsyncFileStore, FileStore, MemoryStore, RedisStore
from sfbulk_sdk.stores.base import session_key
from sfbulk_sdk.testing import ExternalClientApp, FakeOrg, FakeOrgTransport
from tests.servers import ServerProcess, sync_redis
from tests.timing import FakeTime


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


# --------------------------------------------------------------------------- lost token reply

TOKEN_PATH = r"/services/oauth2/token"


class TimedOutAfterTheOrgAnswered(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The org answers the first token request, then the reply times out (ReadTimeout)."""

    def __init__(self, org: FakeOrg) -> None:
        self.inner = FakeOrgTransport(org)
        self.timed_out = False

    def _lose(self, request: httpx.Request) -> None:
        if request.url.path.endswith("/oauth2/token") and not self.timed_out:
            self.timed_out = True
            raise httpx.ReadTimeout("timed out", request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self._lose(request)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self._lose(request)
        return response


def _lost_reply_transport(org: FakeOrg, how: str) -> httpx.BaseTransport:
    if how == "dropped":
        org.inject_fault(TOKEN_PATH, drop_connection=True, after=True, count=1)
        return FakeOrgTransport(org)
    return TimedOutAfterTheOrgAnswered(org)


def _assert_lost_reply(org: FakeOrg, error: BaseException, token: str) -> None:
    message = str(error)
    assert type(error) is SessionError
    assert "reply to the refresh-token refresh" in message and "was lost" in message
    assert "re-authorise" in message and "stopped" not in message
    assert token not in message
    stats = _no_reuse(org)
    assert stats["grants"]["refresh_token"]["requests"] == 1  # sent once, never again


@pytest.mark.parametrize("how", ["dropped", "timed-out"])
def test_a_lost_token_reply_is_not_answered_by_sending_the_token_again(
    tmp_path: Path, how: str
) -> None:
    org, app, token = _org()
    store = FileStore(tmp_path)
    transport = _lost_reply_transport(org, how)
    with Bulk(auth=_auth(org, app, token), store=store, transport=transport) as bulk:
        with pytest.raises(SessionError) as caught:
            bulk.create_job("insert", "Account")
        _assert_lost_reply(org, caught.value, token)
        with pytest.raises(SessionError, match="was lost"):  # nor on the next call
            bulk.create_job("insert", "Account")
    with (
        Bulk(auth=_auth(org, app, token), store=store, transport=FakeOrgTransport(org)) as other,
        pytest.raises(SessionError, match="was lost"),  # nor by another worker
    ):
        other.create_job("insert", "Account")
    _assert_lost_reply(org, caught.value, token)
    grant = store.get_grant(session_key(_auth(org, app, token).fingerprint))
    assert grant is not None and grant.pending_since is not None and grant.reply_lost_at


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["dropped", "timed-out"])
async def test_a_lost_token_reply_is_not_answered_by_sending_the_token_again_async(
    tmp_path: Path, how: str
) -> None:
    org, app, token = _org()
    transport = _lost_reply_transport(org, how)
    async with AsyncBulk(
        auth=_auth(org, app, token), store=AsyncFileStore(tmp_path), transport=transport
    ) as bulk:
        with pytest.raises(SessionError) as caught:
            await bulk.create_job("insert", "Account")
        with pytest.raises(SessionError, match="was lost"):
            await bulk.create_job("insert", "Account")
    _assert_lost_reply(org, caught.value, token)


def test_a_token_request_that_never_left_is_retried_with_the_same_token() -> None:
    """A connection that never opened is no lost reply: the loop retries, once, safely."""
    org, app, token = _org()
    calls = {"n": 0}
    inner = FakeOrgTransport(org)

    def refuse_first(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token") and calls["n"] == 0:
            calls["n"] += 1
            raise httpx.ConnectError("connection refused", request=request)
        return inner.handle_request(request)

    time = FakeTime()
    with Bulk(
        auth=_auth(org, app, token),
        store=MemoryStore(),
        transport=httpx.MockTransport(refuse_first),
        **time.sync(),
    ) as bulk:
        assert bulk.create_job("insert", "Account").id
    stats = _no_reuse(org)
    assert stats["grants"]["refresh_token"] == {"requests": 1, "successes": 1, "failures": 0}


# --------------------------------------------------------------------------- failed grant writes


class FlakyGrantStore(MemoryStore):
    """A store whose ``set_grant`` calls number ``fail`` (counted from 1) fail."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: set[int] = set()
        self.writes = 0

    def set_grant(self, key: str, grant: GrantRecord) -> None:
        self.writes += 1
        if self.writes in self.fail:
            raise SessionStoreError("backend unreachable (simulated blip)")
        super().set_grant(key, grant)


def _bulk_on(org: FakeOrg, app: ExternalClientApp, token: str, store: MemoryStore) -> Bulk:
    return Bulk(auth=_auth(org, app, token), store=store, transport=FakeOrgTransport(org))


def test_a_failed_grant_write_before_sending_leaves_no_stale_copy_behind() -> None:
    org, app, token = _org()
    store = FlakyGrantStore()
    store.fail = {1}  # A's note that it is about to send
    with _bulk_on(org, app, token, store) as a, _bulk_on(org, app, token, store) as b:
        with pytest.raises(SessionStoreError):
            a.create_job("insert", "Account")  # nothing was sent
        b.create_job("insert", "Account")  # B rotates the token
        org.expire_sessions()
        a.create_job("insert", "Account")  # A reads the store: B's token
        b.create_job("insert", "Account")
    stats = _no_reuse(org)
    assert stats["grants"]["refresh_token"]["requests"] == 2


def test_a_rotated_token_whose_write_failed_is_kept_and_written_back() -> None:
    org, app, token = _org()
    store = FlakyGrantStore()
    store.fail = {2}  # the write of the rotated token, after Salesforce answered
    with _bulk_on(org, app, token, store) as a, _bulk_on(org, app, token, store) as b:
        with pytest.raises(SessionStoreError):
            a.create_job("insert", "Account")
        a.create_job("insert", "Account")  # writes the kept grant back, then goes on
        org.expire_sessions()
        b.create_job("insert", "Account")  # B refreshes with the token A kept
        grant = store.get_grant(session_key(_auth(org, app, token).fingerprint))
        assert grant is not None and grant.rotations == 3
    stats = _no_reuse(org)
    assert stats["grants"]["refresh_token"] == {"requests": 3, "successes": 3, "failures": 0}


# --------------------------------------------------------------------------- slow refresh


def test_a_lock_ttl_shorter_than_the_login_timeout_is_refused_for_a_refresh_token() -> None:
    org, app, token = _org()
    with pytest.raises(InvalidInputError, match=r"lock_ttl \(2s\) is shorter than the login"):
        Bulk(auth=_auth(org, app, token), session_options={"lock_ttl": 2.0})
    with pytest.raises(InvalidInputError, match="login timeout"):
        AsyncBulk(auth=_auth(org, app, token), session_options={"lock_ttl": 2.0})


class CountingStore(MemoryStore):
    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(clock=clock)
        self.grant_reads = 0

    def get_grant(self, key: str) -> GrantRecord | None:
        self.grant_reads += 1
        return super().get_grant(key)


def test_a_refresh_outlasting_the_lock_is_waited_for_not_sent_again() -> None:
    """A's token reply comes after its lock expired: B takes the lock, finds A's refresh
    noted as sent and young, and waits for its answer instead of spending the token."""
    org, app, token = _org()
    frozen = datetime.now(timezone.utc)
    clock = lambda: frozen  # noqa: E731 - the pending refresh never ages
    store = CountingStore(clock)
    http = httpx.Client(transport=FakeOrgTransport(org))
    entered, release = threading.Event(), threading.Event()

    def slow_send(request: httpx.Request) -> httpx.Response:
        entered.set()
        assert release.wait(30)
        return http.send(request)

    def manager(send: Callable[[httpx.Request], httpx.Response]) -> SessionManager:
        return SessionManager(
            _auth(org, app, token), store=store, send=send, clock=clock, lock_ttl=0.2
        )

    got: dict[str, Any] = {}

    def run(name: str, sessions: SessionManager) -> None:
        got[name] = sessions.get().session_id.get_secret_value()

    a = threading.Thread(target=run, args=("a", manager(slow_send)))
    a.start()
    assert entered.wait(10)
    time.sleep(0.3)  # A's lock TTL runs out (a real wait: the lock's TTL is real time)
    reads = store.grant_reads
    b = threading.Thread(target=run, args=("b", manager(http.send)))
    b.start()
    for _ in range(1000):  # B reads the pending grant again and again, sending nothing
        if store.grant_reads >= reads + 3:
            break
        time.sleep(0.01)
    assert store.grant_reads >= reads + 3
    assert org.oauth.stats()["grants"]["refresh_token"]["requests"] == 0
    release.set()
    a.join(30)
    b.join(30)
    assert set(got) == {"a", "b"}
    _no_reuse(org)
    http.close()


# --------------------------------------------------------------------------- a cancelled caller


class HeldTokenReply(httpx.AsyncBaseTransport):
    """The org answers a token request at once; its reply is held until ``release``."""

    def __init__(self, org: FakeOrg) -> None:
        self.inner = FakeOrgTransport(org)
        self.answered = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/oauth2/token") and not self.release.is_set():
            self.answered.set()
            await self.release.wait()
        return response


@pytest.mark.anyio
async def test_a_caller_cancelled_during_a_refresh_does_not_lose_the_rotated_token(
    tmp_path: Path,
) -> None:
    org, app, token = _org()
    transport = HeldTokenReply(org)
    store = AsyncFileStore(tmp_path)
    async with AsyncBulk(auth=_auth(org, app, token), store=store, transport=transport) as bulk:
        call = asyncio.ensure_future(bulk.create_job("insert", "Account"))
        await transport.answered.wait()  # Salesforce has rotated the token
        call.cancel()  # the caller's own timeout
        await asyncio.sleep(0)
        assert not call.done()  # the refresh is being finished
        transport.release.set()
        with pytest.raises(asyncio.CancelledError):
            await call
        grant = await store.get_grant(session_key(_auth(org, app, token).fingerprint))
        assert grant is not None and grant.rotations == 1 and grant.pending_since is None
        org.expire_sessions()
        assert (await bulk.create_job("insert", "Account")).id  # with the new token
    stats = _no_reuse(org)
    assert stats["grants"]["refresh_token"]["failures"] == 0

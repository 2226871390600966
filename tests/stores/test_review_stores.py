"""Regression tests from the session-sharing review, on the real servers.

Each test pins one defect that was found (and fixed) in the stores:

* an entry this version cannot read (a newer payload version, a missing or
  unknown field, a foreign value) is treated as absent, with a warning, so
  that it cannot make every worker fail until it expires;
* stored datetimes without a timezone (pymongo decodes BSON dates as naive
  UTC) are read as UTC instead of breaking every comparison;
* a cancelled task releases the refresh lock on its way out instead of
  leaving it held until its TTL;
* a refresh lock's TTL runs in real time on every backend (Redis measures it
  with its own clock; the others used the injectable session clock);
* a lock TTL below one millisecond never reaches Redis as ``PX 0``.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pymongo
import pytest
from servers import ServerProcess, sync_mongo, sync_redis
from session_fakes import (
    SECRET_MARK,
    AsyncFakeSend,
    FakeAuth,
    FakeClock,
    StoreCase,
    make_session,
)

from sfbulk_sdk.errors import LockTimeoutError
from sfbulk_sdk.sessions import AsyncSessionManager
from sfbulk_sdk.stores import MemoryStore, SessionStore, session_key
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.stores.mongodb import MongoStore
from sfbulk_sdk.stores.redis import RedisStore

ASYNC_CASES = ["memory-async", "file-async", "redis-async", "mongodb-async"]


def new_key() -> str:
    return f"sfbulk:session:review-{uuid.uuid4().hex}"


def secret_of(session: Any) -> str:
    value: str = session.session_id.get_secret_value()
    return value


async def put_raw(case: StoreCase, key: str, value: Any) -> None:
    """Write ``value`` under ``key`` exactly as given, bypassing the store.

    Text backends take the stored text; MongoDB takes the fields of the
    document besides ``_id``, ``kind`` and ``expires_at``.
    """
    inner = case.inner
    if case.backend == "memory":
        inner._entries[key] = (case.clock().timestamp() + 600, value)
        return
    if case.backend == "file":
        sync = inner if isinstance(inner, FileStore) else inner._sync
        sync._paths(key)[0].write_text(value)
        return
    if case.backend == "redis":
        done = inner._client.set(key, value, px=600_000)
    else:
        doc = {
            "_id": key,
            "kind": "session",
            "expires_at": case.clock() + timedelta(minutes=10),
            **value,
        }
        done = inner._collection.replace_one({"_id": key}, doc, upsert=True)
    if inspect.isawaitable(done):
        await done


def unreadable_entries(case: StoreCase, secret: str) -> dict[str, Any]:
    """Entries another version (or another program) could have left under a key."""
    deadline = case.clock().timestamp() + 600
    session = make_session(case.clock(), session_id=secret).to_store_dict()
    evolved = {k: v for k, v in session.items() if k != "instance_url"}
    evolved["instance"] = {"url": session["instance_url"]}  # a field renamed later
    if case.backend == "mongodb":
        return {
            "missing and unknown fields": {"sid": "0" * 64, "session": evolved},
            "a session that is not an object": {"sid": "0" * 64, "session": f"v3:{secret}"},
            "a newer layout": {"v": 2, "sid": "0" * 64, "sessions": [session]},
        }
    return {
        "a newer payload version": json.dumps(
            {"v": 2, "expires_at": deadline, "sid": "0" * 64, "session": session}
        ),
        "missing and unknown fields": json.dumps(
            {"v": 1, "expires_at": deadline, "sid": "0" * 64, "session": evolved}
        ),
        "no expiry": json.dumps({"v": 1, "sid": "0" * 64, "session": session}),
        "not JSON": f"sfbulk-v3 {secret}",
    }


# -- unreadable entries ---------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unreadable_entry_is_absent_for_every_operation_and_set_replaces_it(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_case.store
    secret = f"{SECRET_MARK}-unreadable-{uuid.uuid4().hex}"
    for what, value in unreadable_entries(store_case, secret).items():
        key = new_key()
        await put_raw(store_case, key, value)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="sfbulk_sdk"):
            assert await store.get(key) is None, what
            mine = make_session(store_case.clock(), session_id=secret)
            assert await store.renew(key, mine, 600) is False, what
            assert await store.compare_and_delete(key, secret) is False, what
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("unreadable stored session" in text for text in warnings), (what, warnings)
        assert secret not in caplog.text, what
        # A login overwrites the entry, and it reads back normally.
        fresh = make_session(store_case.clock())
        await store.set(key, fresh, 600)
        assert await store.get(key) == fresh, what


@pytest.mark.anyio
async def test_a_manager_logs_in_once_over_an_unreadable_entry(store_case: StoreCase) -> None:
    fingerprint = f"fp-{uuid.uuid4().hex}"
    key = session_key(fingerprint)
    secret = f"{SECRET_MARK}-unreadable-{uuid.uuid4().hex}"
    value = unreadable_entries(store_case, secret)["missing and unknown fields"]
    await put_raw(store_case, key, value)
    send = AsyncFakeSend()
    manager = AsyncSessionManager(
        FakeAuth(fingerprint), store=store_case.store, send=send, clock=store_case.clock
    )
    session = await manager.get()
    assert send.calls == 1
    assert secret_of(session) == send.ids[0]
    assert await store_case.store.get(key) == session
    await manager.invalidate(session)  # must not raise either
    assert await store_case.store.get(key) is None


# -- naive datetimes ----------------------------------------------------------------


@pytest.mark.anyio
async def test_stored_datetimes_without_a_timezone_are_read_as_utc(
    store_case: StoreCase,
) -> None:
    key = new_key()
    now = store_case.clock().replace(microsecond=0)  # BSON dates keep milliseconds
    session = make_session(now, seconds_valid=3600)
    data = session.to_store_dict()
    if store_case.backend == "mongodb":
        # Stored as BSON dates, which pymongo hands back as naive UTC datetimes.
        data["issued_at"] = now
        data["last_used_at"] = now
    else:
        data["issued_at"] = now.replace(tzinfo=None).isoformat()
        data["last_used_at"] = now.replace(tzinfo=None).isoformat()
    store_case.put_session_dict(key, data)
    found = await store_case.store.get(key)
    assert found == session
    assert found.last_used_at.utcoffset() == timedelta(0)
    assert found.expires_at == now + timedelta(seconds=3600)


# -- cancellation inside the locked region ------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("store_case", ASYNC_CASES, indirect=True)
async def test_a_cancelled_holder_releases_the_lock(store_case: StoreCase) -> None:
    store = store_case.store
    key = new_key()
    with anyio.CancelScope() as scope:
        async with store.lock(key, ttl=30, wait=0):
            scope.cancel()
            await anyio.lowlevel.checkpoint()  # the cancellation arrives here
            pytest.fail("not cancelled")
    assert scope.cancelled_caught
    async with store.lock(key, ttl=30, wait=0):  # free at once, not after 30 s
        pass


@pytest.mark.anyio
@pytest.mark.parametrize("store_case", ASYNC_CASES, indirect=True)
async def test_a_login_cancelled_mid_flight_leaves_the_lock_free(store_case: StoreCase) -> None:
    fingerprint = f"fp-{uuid.uuid4().hex}"
    scope = anyio.CancelScope()

    async def cancelled_login(request: httpx.Request) -> httpx.Response:
        scope.cancel()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    manager = AsyncSessionManager(
        FakeAuth(fingerprint), store=store_case.store, send=cancelled_login, lock_ttl=30
    )
    with scope:
        await manager.get()
    assert scope.cancelled_caught
    send = AsyncFakeSend()
    retry = AsyncSessionManager(
        FakeAuth(fingerprint), store=store_case.store, send=send, lock_ttl=30, lock_wait=0
    )
    session = await retry.get()  # lock_wait=0: the lock must be free
    assert secret_of(session) == send.ids[0]


@pytest.mark.anyio
@pytest.mark.parametrize("store_case", ["redis-async", "mongodb-async"], indirect=True)
async def test_a_cancellation_during_the_acquire_round_trip_leaves_no_lock_behind(
    store_case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server grants the lock, then the cancellation arrives before the
    # reply has been handed back: the lock must not stay held until its TTL.
    inner = store_case.inner
    scope = anyio.CancelScope()
    target, name = (
        (inner._client, "set") if store_case.backend == "redis" else (inner, "_try_lease")
    )
    original = getattr(target, name)

    async def granted_then_cancelled(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        scope.cancel()
        await anyio.lowlevel.checkpoint()
        return result

    key = new_key()
    monkeypatch.setattr(target, name, granted_then_cancelled)
    with scope:
        async with store_case.store.lock(key, ttl=30, wait=0):
            await anyio.lowlevel.checkpoint()
            pytest.fail("not cancelled")
    monkeypatch.undo()
    assert scope.cancelled_caught
    async with store_case.store.lock(key, ttl=30, wait=0):
        pass


# -- lock TTLs ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_held_lock_stays_exclusive_when_the_session_clock_jumps(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_case.store
    key = new_key()
    with caplog.at_level(logging.WARNING, logger="sfbulk_sdk"):
        async with store.lock(key, ttl=30, wait=0):
            store_case.clock.advance(3600)  # session time, not lock time
            with pytest.raises(LockTimeoutError):
                async with store.lock(key, ttl=30, wait=0):
                    pytest.fail("a second holder while the first holds the lock")
    assert "expired before it was released" not in caplog.text
    async with store.lock(key, ttl=30, wait=0):
        pass


@pytest.fixture(params=["memory", "file", "redis", "mongodb"])
def frozen_clock_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """A sync store whose session clock never moves."""
    clock = FakeClock(frozen=True)
    if request.param == "memory":
        yield MemoryStore(clock=clock)
    elif request.param == "file":
        yield FileStore(tmp_path / "sessions", clock=clock)
    elif request.param == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        client = sync_redis(server)
        yield RedisStore(client, clock=clock)
        client.close()
    else:
        server = request.getfixturevalue("mongo_server")
        mongo: pymongo.MongoClient[dict[str, Any]] = sync_mongo(server)
        collection = mongo["sfbulk_tests"][f"r_{uuid.uuid4().hex[:12]}"]
        yield MongoStore(collection, clock=clock)
        collection.drop()
        mongo.close()


def test_a_dead_holder_expires_even_when_the_session_clock_is_frozen(
    frozen_clock_store: SessionStore,
) -> None:
    key = new_key()
    dead = frozen_clock_store.lock(key, ttl=0.3, wait=0)
    dead.__enter__()  # never released
    with frozen_clock_store.lock(key, ttl=5, wait=5):
        pass


@pytest.mark.anyio
async def test_a_lock_ttl_below_a_millisecond_is_accepted(store_case: StoreCase) -> None:
    store = store_case.store
    key = new_key()
    async with store.lock(key, ttl=0.0004, wait=0):
        pass
    async with store.lock(key, ttl=30, wait=1):
        pass

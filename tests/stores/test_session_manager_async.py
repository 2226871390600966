"""AsyncSessionManager: the same behaviour as the sync manager, on async stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pymongo
import pytest
import redis.asyncio
from servers import ServerProcess, free_port
from session_fakes import SECRET_MARK, AsyncFakeSend, FakeAuth, FakeClock

from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.errors import LockTimeoutError, SessionError, TransportError
from sfbulk_sdk.models.session import Session
from sfbulk_sdk.sessions import AsyncSessionManager, SessionPolicy
from sfbulk_sdk.stores import AsyncMemoryStore, AsyncSessionStore, session_key
from sfbulk_sdk.stores.file import AsyncFileStore
from sfbulk_sdk.stores.mongodb import AsyncMongoStore
from sfbulk_sdk.stores.redis import AsyncRedisStore

pytestmark = pytest.mark.anyio

KEY = session_key("fp-test")


def secret(session: Session) -> str:
    return session.session_id.get_secret_value()


async def gather(count: int, make: Any) -> list[Any]:
    results: list[Any] = [None] * count

    async def run(index: int) -> None:
        results[index] = await make(index)

    async with anyio.create_task_group() as group:
        for index in range(count):
            group.start_soon(run, index)
    return results


async def test_the_first_get_logs_in_once_then_the_cache_serves() -> None:
    clock = FakeClock(frozen=True)
    store = AsyncMemoryStore(clock=clock)
    send = AsyncFakeSend()
    manager = AsyncSessionManager(FakeAuth(), store=store, send=send, clock=clock)
    session = await manager.get()
    assert secret(session) == send.ids[0]
    assert await store.get(KEY) == session
    assert await manager.get() == session
    assert send.calls == 1


async def test_sixteen_tasks_share_one_login_and_one_refresh() -> None:
    send = AsyncFakeSend(delay=0.05)
    manager = AsyncSessionManager(FakeAuth(), send=send)
    first = await gather(16, lambda _: manager.get())
    assert send.calls == 1
    assert {secret(s) for s in first} == {send.ids[0]}

    async def rejected_then_get(index: int) -> Session:
        await manager.invalidate(first[index])
        return await manager.get()

    second = await gather(16, rejected_then_get)
    assert send.calls == 2
    assert {secret(s) for s in second} == {send.ids[1]}


@pytest.fixture(params=["memory", "file", "redis", "mongodb"])
async def async_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncSessionStore]:
    if request.param == "memory":
        yield AsyncMemoryStore()
    elif request.param == "file":
        yield AsyncFileStore(tmp_path / "sessions")
    elif request.param == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        client = redis.asyncio.Redis(host=server.host, port=server.port, socket_timeout=5)
        yield AsyncRedisStore(client)
        await client.aclose()
    else:
        server = request.getfixturevalue("mongo_server")
        mongo: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(
            server.host, server.port, directConnection=True, serverSelectionTimeoutMS=5000
        )
        collection = mongo["sfbulk_tests"][f"a_{uuid.uuid4().hex[:12]}"]
        yield AsyncMongoStore(collection)
        await collection.drop()
        await mongo.close()


async def test_sixteen_workers_on_one_async_store_log_in_once_then_refresh_once(
    async_store: AsyncSessionStore,
) -> None:
    send = AsyncFakeSend(delay=0.05)
    fingerprint = f"fp-{uuid.uuid4().hex}"
    managers = [
        AsyncSessionManager(FakeAuth(fingerprint), store=async_store, send=send) for _ in range(16)
    ]
    first = await gather(16, lambda i: managers[i].get())
    assert send.calls == 1
    assert {secret(s) for s in first} == {send.ids[0]}

    async def rejected_then_get(index: int) -> Session:
        await managers[index].invalidate(first[0])
        return await managers[index].get()

    second = await gather(16, rejected_then_get)
    assert send.calls == 2
    assert {secret(s) for s in second} == {send.ids[1]}


async def test_a_stale_invalidation_keeps_the_newer_session() -> None:
    store = AsyncMemoryStore()
    send = AsyncFakeSend()
    worker_a = AsyncSessionManager(FakeAuth(), store=store, send=send)
    worker_b = AsyncSessionManager(FakeAuth(), store=store, send=send)
    old = await worker_a.get()
    await worker_b.invalidate(old)
    new = await worker_b.get()
    await worker_a.invalidate(old)
    assert await worker_a.get() == new
    assert send.calls == 2


async def test_touch_is_throttled_and_never_resurrects() -> None:
    clock = FakeClock(frozen=True)
    store = AsyncMemoryStore(clock=clock)
    send = AsyncFakeSend()
    manager = AsyncSessionManager(FakeAuth(), store=store, send=send, clock=clock)
    session = await manager.get()
    clock.advance(59)
    await manager.touch(session)
    stored = await store.get(KEY)
    assert stored is not None
    assert stored.last_used_at == session.last_used_at
    clock.advance(2)
    await manager.touch(session)
    stored = await store.get(KEY)
    assert stored is not None
    assert stored.last_used_at == clock()

    other = AsyncSessionManager(FakeAuth(), store=store, send=send, clock=clock)
    await other.invalidate(session)
    clock.advance(61)
    await manager.touch(session)
    assert await store.get(KEY) is None


async def test_a_held_lock_makes_get_fail_after_lock_wait() -> None:
    store = AsyncMemoryStore()
    send = AsyncFakeSend()
    manager = AsyncSessionManager(FakeAuth(), store=store, send=send, lock_wait=0.3)
    async with store.lock(KEY, ttl=30, wait=0):
        with pytest.raises(LockTimeoutError):
            await manager.get()
    assert send.calls == 0


async def test_a_dead_lock_holder_delays_the_login_only_until_its_ttl() -> None:
    store = AsyncMemoryStore()
    await store.lock(KEY, ttl=0.5, wait=0).__aenter__()  # never released
    send = AsyncFakeSend()
    manager = AsyncSessionManager(FakeAuth(), store=store, send=send, lock_wait=10)
    assert secret(await manager.get()) == send.ids[0]


async def test_a_rejected_static_session_raises_a_session_error() -> None:
    static_id = f"{SECRET_MARK}-static-{uuid.uuid4().hex}"
    store = AsyncMemoryStore()
    auth = StaticSession("https://static.my.salesforce.com", static_id)
    manager = AsyncSessionManager(auth, store=store)
    session = await manager.get()
    assert secret(session) == static_id
    await manager.touch(session)
    assert await store.get(session_key(auth.fingerprint)) is None  # never stored
    await manager.invalidate(session)
    with pytest.raises(SessionError, match="static session id was rejected") as caught:
        await manager.get()
    assert static_id not in str(caught.value)


async def test_without_send_the_manager_refuses_to_log_in_rather_than_open_a_transport() -> None:
    manager = AsyncSessionManager(FakeAuth(), policy=SessionPolicy(cache_seconds=0))
    with pytest.raises(SessionError, match="no way to send the login request: pass send="):
        await manager.get()
    await manager.aclose()


async def test_the_async_clients_login_send_wraps_transport_errors() -> None:
    from sfbulk_sdk import AsyncBulk, RetryPolicy

    class LocalAuth(FakeAuth):
        def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
            return httpx.Request("POST", f"http://127.0.0.1:{free_port()}/services/Soap/u/64.0")

    async with AsyncBulk(auth=LocalAuth(), retry=RetryPolicy(max_attempts=1)) as bulk:
        with pytest.raises(
            TransportError, match=r"POST \S+/services/Soap/u/64.0 failed: ConnectError"
        ):
            await bulk.get_job("750000000000001AAA")


async def test_close_closes_only_what_the_manager_created() -> None:
    send = AsyncFakeSend()
    own = AsyncSessionManager(FakeAuth(), send=send)
    await own.get()
    await own.aclose()
    with pytest.raises(SessionError):
        await own._store.get(KEY)

    shared = AsyncMemoryStore()
    manager = AsyncSessionManager(FakeAuth(), store=shared, send=send)
    await manager.get()
    await manager.aclose()
    assert await shared.get(KEY) is not None

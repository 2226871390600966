"""SessionManager: cache, store, single-flight login, invalidation, touch."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import ServerProcess, free_port, sync_mongo, sync_redis
from session_fakes import SECRET_MARK, FakeAuth, FakeClock, FakeSend

from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.core.policy import RetryPolicy
from sfbulk_sdk.errors import (
    LockTimeoutError,
    LoginError,
    SessionError,
    TransportError,
)
from sfbulk_sdk.models.session import Session
from sfbulk_sdk.sessions import SessionManager, SessionPolicy
from sfbulk_sdk.stores import MemoryStore, SessionStore, session_key
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.stores.mongodb import MongoStore
from sfbulk_sdk.stores.redis import RedisStore

KEY = session_key("fp-test")


class SpyStore:
    """Counts the calls made to a wrapped store."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def get(self, key: str) -> Session | None:
        self.calls["get"] += 1
        return self.inner.get(key)

    def set(self, key: str, session: Session, ttl: float) -> None:
        self.calls["set"] += 1
        self.inner.set(key, session, ttl)

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        self.calls["renew"] += 1
        return self.inner.renew(key, session, ttl)

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        self.calls["compare_and_delete"] += 1
        return self.inner.compare_and_delete(key, session_id)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        self.calls["lock"] += 1
        return self.inner.lock(key, ttl=ttl, wait=wait)

    def close(self) -> None:
        self.calls["close"] += 1
        self.inner.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(frozen=True)


@pytest.fixture
def store(clock: FakeClock) -> SpyStore:
    return SpyStore(MemoryStore(clock=clock))


@pytest.fixture
def send() -> FakeSend:
    return FakeSend()


def manager_for(store: Any, send: FakeSend, clock: FakeClock, **kwargs: Any) -> SessionManager:
    return SessionManager(FakeAuth(), store=store, send=send, clock=clock, **kwargs)


def secret(session: Session) -> str:
    return session.session_id.get_secret_value()


def test_the_first_get_logs_in_once_and_stores_the_session(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock)
    session = manager.get()
    assert send.calls == 1
    assert secret(session) == send.ids[0]
    assert session.issued_at == clock()
    stored = store.inner.get(KEY)
    assert stored == session
    assert store.calls["set"] == 1
    assert manager.get() == session
    assert send.calls == 1


def test_the_cache_spares_store_reads_for_cache_seconds(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock)
    manager.get()
    assert store.calls["get"] == 2  # the miss, then the re-check under the lock
    for _ in range(10):
        manager.get()
    assert store.calls["get"] == 2
    clock.advance(5)
    manager.get()
    assert store.calls["get"] == 3
    assert send.calls == 1


def test_cache_seconds_zero_reads_the_store_on_every_get(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock, policy=SessionPolicy(cache_seconds=0))
    manager.get()
    for _ in range(5):
        manager.get()
    assert store.calls["get"] == 2 + 5
    assert send.calls == 1


def test_a_session_near_its_expiry_is_refreshed_before_use(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock)
    first = manager.get()
    clock.advance(6899)  # 7200 s timeout, 300 s margin: still fresh
    assert manager.get() == first
    clock.advance(2)
    second = manager.get()
    assert send.calls == 2
    assert secret(second) == send.ids[1]
    assert store.inner.get(KEY) == second


def test_a_session_stored_by_another_process_is_used(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    first = manager_for(store, send, clock).get()
    other = manager_for(store, send, clock).get()
    assert other == first
    assert send.calls == 1


def test_invalidate_deletes_the_rejected_session_and_the_next_get_logs_in(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock)
    first = manager.get()
    manager.invalidate(first)
    assert store.inner.get(KEY) is None
    second = manager.get()
    assert send.calls == 2
    assert not second.same_credential(first)


def test_a_stale_invalidation_keeps_a_newer_session_and_picks_it_up(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    worker_a = manager_for(store, send, clock)
    worker_b = manager_for(store, send, clock)
    old = worker_a.get()
    assert worker_b.get() == old
    # B is refused first and refreshes; A still holds the old id in its cache.
    worker_b.invalidate(old)
    new = worker_b.get()
    assert worker_a.get() == old
    # A is refused too: its invalidation must not delete B's new session...
    worker_a.invalidate(old)
    assert store.inner.get(KEY) == new
    # ...and A picks the new session up from the store without logging in.
    assert worker_a.get() == new
    assert send.calls == 2


def test_touch_writes_back_at_most_once_per_interval_and_extends_the_ttl(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock)
    session = manager.get()
    start = clock()
    manager.touch(session)
    clock.advance(30)
    manager.touch(session)
    assert store.calls["renew"] == 0
    clock.advance(31)
    manager.touch(session)
    assert store.calls["renew"] == 1
    stored = store.inner.get(KEY)
    assert stored is not None
    assert stored.last_used_at == clock()
    manager.touch(manager.get())
    manager.touch(session)  # an older copy of the same session
    assert store.calls["renew"] == 1
    # The entry now outlives the first expiry (start + 7200 s).
    assert stored.expires_at == start + timedelta(seconds=61 + 7200)
    clock.advance(7250 - 61)
    assert store.inner.get(KEY) is not None
    assert send.calls == 1


def test_touch_never_resurrects_a_session_another_process_replaced(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    worker_a = manager_for(store, send, clock)
    worker_b = manager_for(store, send, clock)
    old = worker_a.get()
    worker_b.invalidate(old)
    new = worker_b.get()
    clock.advance(61)
    worker_a.touch(old)
    assert store.calls["renew"] == 1
    assert store.inner.get(KEY) == new
    assert worker_a.get() == new  # the failed renewal dropped A's cache
    assert send.calls == 2


def test_a_rejected_session_is_never_touched(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock)
    session = manager.get()
    manager.invalidate(session)
    clock.advance(61)
    manager.touch(session)
    assert store.calls["renew"] == 0


def test_sixteen_threads_share_one_login_and_one_refresh(clock: FakeClock) -> None:
    send = FakeSend(delay=0.05)
    manager = SessionManager(FakeAuth(), send=send, clock=clock)
    first = run_threads(16, manager.get)
    assert send.calls == 1
    assert {secret(s) for s in first} == {send.ids[0]}
    for session in first:  # every thread sees the rejection
        manager.invalidate(session)
    second = run_threads(16, manager.get)
    assert send.calls == 2
    assert {secret(s) for s in second} == {send.ids[1]}


def run_threads(count: int, target: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.fixture(params=["memory", "file", "redis", "mongodb"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """A real store shared by many managers (as processes would share it)."""
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "file":
        yield FileStore(tmp_path / "sessions")
    elif request.param == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        client = sync_redis(server)
        yield RedisStore(client)
        client.close()
    else:
        server = request.getfixturevalue("mongo_server")
        mongo = sync_mongo(server)
        collection = mongo["sfbulk_tests"][f"m_{uuid.uuid4().hex[:12]}"]
        yield MongoStore(collection)
        collection.drop()
        mongo.close()


def test_sixteen_workers_on_one_store_log_in_once_then_refresh_once(
    shared_store: SessionStore,
) -> None:
    send = FakeSend(delay=0.05)
    fingerprint = f"fp-{uuid.uuid4().hex}"
    managers = [
        SessionManager(FakeAuth(fingerprint), store=shared_store, send=send) for _ in range(16)
    ]
    index = iter(range(16))
    lock = threading.Lock()

    def next_manager() -> SessionManager:
        with lock:
            return managers[next(index)]

    first = run_threads(16, lambda: next_manager().get())
    assert send.calls == 1
    assert {secret(s) for s in first} == {send.ids[0]}

    index = iter(range(16))

    def rejected_then_get() -> Session:
        manager = next_manager()
        manager.invalidate(first[0])
        return manager.get()

    second = run_threads(16, rejected_then_get)
    assert send.calls == 2
    assert {secret(s) for s in second} == {send.ids[1]}


def test_a_held_lock_makes_get_fail_after_lock_wait(
    store: SpyStore, send: FakeSend, clock: FakeClock
) -> None:
    manager = manager_for(store, send, clock, lock_wait=0.3)
    with store.inner.lock(KEY, ttl=30, wait=0), pytest.raises(LockTimeoutError):
        manager.get()
    assert send.calls == 0


def test_a_waiter_takes_the_holders_session_without_waiting_for_the_lock(
    send: FakeSend,
) -> None:
    # Another process holds the lock for 30 s but stores its new session
    # early: the waiter returns that session at once and never logs in.
    store = MemoryStore()
    theirs = FakeAuth().parse_login_response(
        httpx.Response(200, json={"session_id": f"{SECRET_MARK}-theirs"}), now=FakeClock()()
    )
    manager = SessionManager(FakeAuth(), store=store, send=send, lock_wait=30)
    with store.lock(KEY, ttl=30, wait=0):
        timer = threading.Timer(0.2, store.set, args=(KEY, theirs, 600))
        timer.start()
        try:
            assert manager.get() == theirs
        finally:
            timer.cancel()
    assert send.calls == 0


def test_a_dead_lock_holder_delays_the_login_only_until_its_ttl(send: FakeSend) -> None:
    store = MemoryStore()
    dead = store.lock(KEY, ttl=0.5, wait=0)
    dead.__enter__()  # never released
    manager = SessionManager(FakeAuth(), store=store, send=send, lock_wait=10)
    session = manager.get()
    assert send.calls == 1
    assert secret(session) == send.ids[0]


def test_a_failed_login_propagates_and_releases_the_lock(store: SpyStore, clock: FakeClock) -> None:
    calls = {"n": 0}
    good = FakeSend()

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise LoginError("INVALID_LOGIN", "Invalid username, password, security token")
        return good(request)

    manager = SessionManager(FakeAuth(), store=store, send=flaky, clock=clock, lock_wait=0)
    with pytest.raises(LoginError):
        manager.get()
    assert store.inner.get(KEY) is None
    # The failure is shared for login_failure_seconds (kept in process: SpyStore
    # has no LoginFailureStore methods): no second login meanwhile.
    with pytest.raises(LoginError, match="shared from another worker"):
        manager.get()
    assert calls["n"] == 1
    clock.advance(SessionPolicy().login_failure_seconds)
    session = manager.get()  # lock_wait=0: the lock must have been released
    assert secret(session) == good.ids[0]
    assert calls["n"] == 2


def test_without_send_the_manager_refuses_to_log_in_rather_than_open_a_transport() -> None:
    """The manager owns no HTTP client: the login goes out through the caller's ``send``."""
    manager = SessionManager(FakeAuth())
    with pytest.raises(SessionError, match="no way to send the login request: pass send="):
        manager.get()
    manager.close()


def test_the_clients_login_send_wraps_transport_errors() -> None:
    from sfbulk_sdk import Bulk

    class LocalAuth(FakeAuth):
        def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
            return httpx.Request("POST", f"http://127.0.0.1:{free_port()}/services/Soap/u/64.0")

    with (
        Bulk(auth=LocalAuth(), retry=RetryPolicy(max_attempts=1)) as bulk,
        pytest.raises(TransportError, match=r"POST \S+/services/Soap/u/64.0 failed: ConnectError"),
    ):
        bulk.get_job("750000000000001AAA")


def test_a_custom_key_prefix_names_the_store_key(send: FakeSend, clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    session = SessionManager(
        FakeAuth(), store=store, send=send, clock=clock, key_prefix="myapp:sf:"
    ).get()
    assert store.get("myapp:sf:fp-test") == session
    assert store.get(KEY) is None


def test_close_closes_only_what_the_manager_created(send: FakeSend) -> None:
    own = SessionManager(FakeAuth(), send=send)
    own.get()
    own.close()
    with pytest.raises(SessionError):
        own._store.get(KEY)

    shared = MemoryStore()
    manager = SessionManager(FakeAuth(), store=shared, send=send)
    manager.get()
    manager.close()
    assert shared.get(KEY) is not None


def test_a_static_session_never_logs_in_nor_touches_the_store(store: SpyStore) -> None:
    static_id = f"{SECRET_MARK}-static-{uuid.uuid4().hex}"
    auth = StaticSession("https://static.my.salesforce.com", static_id)
    manager = SessionManager(auth, store=store)
    session = manager.get()
    assert secret(session) == static_id
    assert session.instance_url == "https://static.my.salesforce.com"
    manager.touch(session)
    assert manager.get() is session
    manager.invalidate(Session.static("https://x.my.salesforce.com", "another-id"))
    assert manager.get() is session  # only its own id's rejection counts
    assert sum(store.calls.values()) == 0
    assert not hasattr(manager, "_http")  # the manager owns no transport of its own


def test_a_rejected_static_session_raises_a_session_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    static_id = f"{SECRET_MARK}-static-{uuid.uuid4().hex}"
    manager = SessionManager(StaticSession("https://static.my.salesforce.com", static_id))
    session = manager.get()
    with caplog.at_level(logging.DEBUG, logger="sfbulk_sdk"):
        manager.invalidate(session)
    with pytest.raises(SessionError, match="static session id was rejected") as caught:
        manager.get()
    assert static_id not in str(caught.value)
    assert static_id not in caplog.text


def test_the_secret_never_shows_in_logs_or_reprs(
    store: SpyStore, send: FakeSend, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    manager = manager_for(store, send, clock)
    with caplog.at_level(logging.DEBUG):
        session = manager.get()
        clock.advance(61)
        manager.touch(session)
        manager.invalidate(session)
        manager.get()
    assert "logged in for sfbulk:session:fp-test" in caplog.text
    assert "invalidated (store entry deleted)" in caplog.text
    for session_id in send.ids:
        assert session_id not in caplog.text
        assert session_id not in repr(manager)
    assert repr(manager).startswith("SessionManager(key='sfbulk:session:fp-test', store=")

"""A refused login is shared like a session: one wrong password, one failed login.

Salesforce locks a user out after a handful of invalid logins
(``PASSWORD_LOCKOUT``), so when the worker holding the refresh lock gets a
:class:`~sfbulk_sdk.errors.LoginError`, it records the failure (code, message,
times; no secret) in the store for ``SessionPolicy.login_failure_seconds``,
and every other worker raises that error instead of logging in itself.

Every backend runs against real servers (Redis, the MongoDB wire protocol)
and the fake org, whose ``failed_logins`` counter says how many wrong logins
reached it:

* the store contract of the optional ``LoginFailureStore`` methods, on all
  eight stores;
* 16 threads (each with its own ``Bulk`` client) or 16 async tasks (each with
  its own ``AsyncBulk``) on one store, and 8 OS processes on one shared store:
  exactly one failed login, every worker gets ``INVALID_LOGIN``;
* once the record expires, exactly one more login is tried; a successful
  login clears the record; ``login_failure_seconds=0`` lets every worker try;
* a store without the optional methods still shares failures within one
  manager; nothing secret reaches the record, a log line or an error.

Clocks are injected (``FakeClock.advance``) to pass the failure TTL; no
assertion depends on elapsed time.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import anyio
import httpx
import pymongo
import pytest
import redis.asyncio
from client_workers import WRONG_PASSWORD, Report, StoreSpec, wrong_password_worker
from process_helpers import collect, join_all, processes, served
from servers import ServerProcess, sync_mongo, sync_redis
from session_fakes import (
    SECRET_MARK,
    AsyncFakeSend,
    FakeAuth,
    FakeClock,
    FakeSend,
    StoreCase,
    make_session,
)

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.errors import (
    InvalidInputError,
    LockTimeoutError,
    LoginError,
    LoginRateExceededError,
    SessionStoreError,
    TransportError,
)
from sfbulk_sdk.models.session import Session
from sfbulk_sdk.sessions import AsyncSessionManager, SessionManager, SessionPolicy
from sfbulk_sdk.stores import (
    AsyncLoginFailureStore,
    AsyncMemoryStore,
    LoginFailure,
    LoginFailureStore,
    MemoryStore,
    SessionStore,
    login_failure_key,
    session_key,
)
from sfbulk_sdk.stores.file import AsyncFileStore, FileStore
from sfbulk_sdk.stores.mongodb import AsyncMongoStore, MongoStore
from sfbulk_sdk.stores.redis import AsyncRedisStore, RedisStore
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)

LOGIN_URL = "https://login.salesforce.com"
WORKERS = 16
PROCESSES = 8
#: What the error of a worker that did not log in itself says.
SHARED = "shared from another worker"
FAILURE_SECONDS = SessionPolicy().login_failure_seconds
BACKENDS = ("memory", "file", "redis", "mongodb")


def wrong_auth() -> SoapLogin:
    return SoapLogin(DEFAULT_USERNAME, WRONG_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=LOGIN_URL)


def right_auth() -> SoapLogin:
    return SoapLogin(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=LOGIN_URL
    )


def new_key() -> str:
    return f"sfbulk:session:lf-{uuid.uuid4().hex}"


def failure_at(
    clock: FakeClock, *, code: str = "INVALID_LOGIN", seconds: float = 60
) -> LoginFailure:
    now = clock()
    return LoginFailure(
        code=code,
        message="Invalid username, password, security token; or user locked out.",
        failed_at=now,
        expires_at=now + timedelta(seconds=seconds),
        status_code=500,
    )


# -- one store shared by many workers -------------------------------------------------


@dataclass
class Shared:
    """One store (sync or async) shared by the workers of a test, with raw access."""

    backend: str
    store: Any
    clock: FakeClock
    prefix: str
    raw_failure: Callable[[str], dict[str, Any] | None]  # by session key

    @property
    def key(self) -> str:
        """The session key every client of the default user uses here."""
        return session_key(wrong_auth().fingerprint, prefix=self.prefix)

    def options(self, **extra: Any) -> dict[str, Any]:
        return {"key_prefix": self.prefix, "clock": self.clock, "lock_wait": 30, **extra}


def _text_reader(read: Callable[[str], str | None]) -> Callable[[str], dict[str, Any] | None]:
    def raw(key: str) -> dict[str, Any] | None:
        text = read(key)
        return None if text is None else dict(json.loads(text))

    return raw


@pytest.fixture(params=BACKENDS)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shared]:
    """A sync store of each backend, with a fresh key prefix."""
    backend: str = request.param
    clock = FakeClock()
    prefix = f"lf-{uuid.uuid4().hex[:12]}:"
    if backend == "memory":
        memory = MemoryStore(clock=clock)
        yield Shared(
            backend,
            memory,
            clock,
            prefix,
            _text_reader(lambda key: memory._raw(login_failure_key(key))),
        )
    elif backend == "file":
        files = FileStore(tmp_path / "sessions", clock=clock)

        def read_file(key: str) -> str | None:
            path = files._failure_path(key)
            return path.read_text() if path.exists() else None

        yield Shared(backend, files, clock, prefix, _text_reader(read_file))
    elif backend == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        client = sync_redis(server)

        def read_redis(key: str) -> str | None:
            value = client.get(login_failure_key(key))
            return None if value is None else bytes(value).decode()  # type: ignore[arg-type]

        yield Shared(
            backend, RedisStore(client, clock=clock), clock, prefix, _text_reader(read_redis)
        )
        client.close()
    else:
        server = request.getfixturevalue("mongo_server")
        mongo = sync_mongo(server)
        collection = mongo["sfbulk_tests"][f"lf_{uuid.uuid4().hex[:12]}"]

        def read_mongo(key: str) -> dict[str, Any] | None:
            return collection.find_one({"_id": login_failure_key(key)})

        yield Shared(backend, MongoStore(collection, clock=clock), clock, prefix, read_mongo)
        collection.drop()
        mongo.close()


@pytest.fixture(params=BACKENDS)
async def ashared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Shared]:
    """An async store of each backend, with a fresh key prefix."""
    backend: str = request.param
    clock = FakeClock()
    prefix = f"lf-{uuid.uuid4().hex[:12]}:"
    if backend == "memory":
        memory = AsyncMemoryStore(clock=clock)
        yield Shared(
            backend,
            memory,
            clock,
            prefix,
            _text_reader(lambda key: memory._raw(login_failure_key(key))),
        )
    elif backend == "file":
        files = AsyncFileStore(tmp_path / "sessions", clock=clock)

        def read_file(key: str) -> str | None:
            path = files._sync._failure_path(key)
            return path.read_text() if path.exists() else None

        yield Shared(backend, files, clock, prefix, _text_reader(read_file))
    elif backend == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        raw_client = sync_redis(server)
        client = redis.asyncio.Redis(host=server.host, port=server.port, socket_timeout=5)

        def read_redis(key: str) -> str | None:
            value = raw_client.get(login_failure_key(key))
            return None if value is None else bytes(value).decode()  # type: ignore[arg-type]

        try:
            yield Shared(
                backend,
                AsyncRedisStore(client, clock=clock),
                clock,
                prefix,
                _text_reader(read_redis),
            )
        finally:
            await client.aclose()
            raw_client.close()
    else:
        server = request.getfixturevalue("mongo_server")
        raw_mongo = sync_mongo(server)
        name = f"lf_{uuid.uuid4().hex[:12]}"
        raw_collection = raw_mongo["sfbulk_tests"][name]
        amongo: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(
            server.host, server.port, directConnection=True, serverSelectionTimeoutMS=5000
        )

        def read_mongo(key: str) -> dict[str, Any] | None:
            return raw_collection.find_one({"_id": login_failure_key(key)})

        try:
            yield Shared(
                backend,
                AsyncMongoStore(amongo["sfbulk_tests"][name], clock=clock),
                clock,
                prefix,
                read_mongo,
            )
        finally:
            await amongo.close()
            raw_collection.drop()
            raw_mongo.close()


def run_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """``target(i)`` in ``count`` threads started together; each result or exception."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            outcomes[index] = target(index)
        except BaseException as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


async def run_tasks(count: int, target: Callable[[int], Any]) -> list[Any]:
    """``await target(i)`` in ``count`` tasks; each result or exception."""
    outcomes: list[Any] = [None] * count

    async def run(index: int) -> None:
        try:
            outcomes[index] = await target(index)
        except Exception as exc:
            outcomes[index] = exc

    async with anyio.create_task_group() as group:
        for index in range(count):
            group.start_soon(run, index)
    return outcomes


def login_errors(outcomes: list[Any]) -> tuple[int, int]:
    """``(first-hand, shared)`` counts; every outcome must be an INVALID_LOGIN error."""
    for outcome in outcomes:
        assert type(outcome) is LoginError, repr(outcome)
        assert outcome.code == "INVALID_LOGIN"
    shared = sum(SHARED in outcome.message for outcome in outcomes)
    return len(outcomes) - shared, shared


def bulk_with(shared: Shared, org: FakeOrg, auth: SoapLogin, **options: Any) -> Bulk:
    return Bulk(
        auth=auth,
        store=shared.store,
        transport=FakeOrgTransport(org),
        session_options=shared.options(**options),
    )


def start_jobs(shared: Shared, org: FakeOrg, count: int, **options: Any) -> list[Any]:
    """``count`` threads, each with its own wrong-password client, start a job."""

    def worker(_: int) -> Any:
        with bulk_with(shared, org, wrong_auth(), **options) as bulk:
            return bulk.create_job("insert", "Contact")

    return run_threads(count, worker)


async def astart_jobs(shared: Shared, org: FakeOrg, count: int, **options: Any) -> list[Any]:
    """``count`` tasks, each with its own wrong-password async client, start a job."""

    async def worker(_: int) -> Any:
        async with AsyncBulk(
            auth=wrong_auth(),
            store=shared.store,
            transport=FakeOrgTransport(org),
            session_options=shared.options(**options),
        ) as bulk:
            return await bulk.create_job("insert", "Contact")

    return await run_tasks(count, worker)


def check_record(record: dict[str, Any] | None, *, code: str = "INVALID_LOGIN") -> None:
    """The stored record: the failure's code and message, and nothing secret."""
    assert record is not None
    assert record["kind"] == "login_failure"
    assert record["failure"]["code"] == code
    assert record["failure"]["message"].startswith("Invalid username, password")
    assert set(record["failure"]) == {"code", "message", "failed_at", "expires_at", "status_code"}
    text = json.dumps(record, default=str)
    for secret in (WRONG_PASSWORD, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, SECRET_MARK):
        assert secret not in text


# -- the store contract, on all eight stores ---------------------------------------------


@pytest.mark.anyio
async def test_every_built_in_store_implements_the_optional_protocol(store_case: StoreCase) -> None:
    protocol = LoginFailureStore if store_case.mode == "sync" else AsyncLoginFailureStore
    assert isinstance(store_case.inner, protocol)


@pytest.mark.anyio
async def test_a_failure_round_trips_and_expires_with_its_ttl(store_case: StoreCase) -> None:
    key, other = new_key(), new_key()
    failure = failure_at(store_case.clock)
    assert await store_case.store.get_failure(key) is None
    await store_case.store.set_failure(key, failure, 60)
    assert await store_case.store.get_failure(key) == failure
    assert await store_case.store.get_failure(other) is None
    store_case.clock.advance(59)
    assert await store_case.store.get_failure(key) == failure
    store_case.clock.advance(2)
    assert await store_case.store.get_failure(key) is None


@pytest.mark.anyio
async def test_a_failure_is_kept_apart_from_the_session_and_cleared_alone(
    store_case: StoreCase,
) -> None:
    key = new_key()
    session = make_session(store_case.clock())
    await store_case.store.set(key, session, 600)
    await store_case.store.set_failure(key, failure_at(store_case.clock), 60)
    assert await store_case.store.get(key) == session
    await store_case.store.clear_failure(key)
    assert await store_case.store.get_failure(key) is None
    assert await store_case.store.get(key) == session
    await store_case.store.clear_failure(key)  # nothing to clear: no error
    await store_case.store.set_failure(key, failure_at(store_case.clock), 60)
    assert await store_case.store.compare_and_delete(key, session.session_id.get_secret_value())
    assert (await store_case.store.get_failure(key)) is not None


@pytest.mark.anyio
async def test_the_stored_failure_is_json_under_the_derived_key(store_case: StoreCase) -> None:
    key = new_key()
    failure = failure_at(store_case.clock, code="PASSWORD_LOCKOUT", seconds=30)
    await store_case.store.set_failure(key, failure, 30)
    name = login_failure_key(key)
    assert name == f"{key}:failed"
    if store_case.backend == "file":
        sync = store_case.inner if store_case.mode == "sync" else store_case.inner._sync
        path = sync._failure_path(key)
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)
        doc: dict[str, Any] | None = json.loads(path.read_text())
    else:  # the Redis / memory text, or the MongoDB document, under the derived key
        doc = store_case.raw_doc(name)
    assert doc is not None
    assert doc["failure"] == {
        "code": "PASSWORD_LOCKOUT",
        "message": "Invalid username, password, security token; or user locked out.",
        "failed_at": failure.failed_at.isoformat(),
        "expires_at": failure.expires_at.isoformat(),
        "status_code": 500,
    }
    assert doc["kind"] == "login_failure"


@pytest.mark.anyio
@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
async def test_set_failure_rejects_a_ttl_that_is_not_a_positive_number(
    store_case: StoreCase, ttl: float
) -> None:
    with pytest.raises(InvalidInputError):
        await store_case.store.set_failure(new_key(), failure_at(store_case.clock), ttl)


@pytest.mark.anyio
async def test_an_unreadable_failure_record_counts_as_absent(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    name = login_failure_key(key)
    garbage = '{"v": 1, "kind": "login_failure", "expires_at": 9e12, "failure": {"code": 7}}'
    inner = store_case.inner
    if store_case.backend == "memory":
        inner._failures[name] = (9e12, garbage)
    elif store_case.backend == "file":
        sync = inner if store_case.mode == "sync" else inner._sync
        sync._failure_path(key).parent.mkdir(parents=True, exist_ok=True)
        sync._failure_path(key).write_text(garbage)
    elif store_case.backend == "redis":
        await store_case.store.set_failure(key, failure_at(store_case.clock), 60)
        client = inner._client
        result = client.set(name, garbage, px=60_000)
        if store_case.mode == "async":
            await result
    else:
        await store_case.store.set_failure(key, failure_at(store_case.clock), 60)
        collection = inner._collection
        update = collection.update_one({"_id": name}, {"$set": {"failure": {"code": 7}}})
        if store_case.mode == "async":
            await update
    with caplog.at_level(logging.WARNING, logger="sfbulk_sdk.stores"):
        assert await store_case.store.get_failure(key) is None
    assert "unreadable login-failure record" in caplog.text
    await store_case.store.set_failure(key, failure_at(store_case.clock), 60)  # replaces it
    assert await store_case.store.get_failure(key) is not None


# -- many workers, one wrong password --------------------------------------------------


def test_sixteen_clients_with_a_wrong_password_cost_one_failed_login(shared: Shared) -> None:
    org = FakeOrg()
    outcomes = start_jobs(shared, org, WORKERS)
    assert login_errors(outcomes) == (1, WORKERS - 1)
    assert (org.failed_logins, org.login_count) == (1, 0)
    check_record(shared.raw_failure(shared.key))
    # Still within the TTL: 16 more workers, no login sent at all.
    assert login_errors(start_jobs(shared, org, WORKERS)) == (0, WORKERS)
    assert org.failed_logins == 1


def test_once_the_failure_expires_exactly_one_more_login_is_tried(shared: Shared) -> None:
    org = FakeOrg()
    assert login_errors(start_jobs(shared, org, WORKERS)) == (1, WORKERS - 1)
    shared.clock.advance(FAILURE_SECONDS - 1)
    assert login_errors(start_jobs(shared, org, WORKERS)) == (0, WORKERS)
    assert org.failed_logins == 1
    shared.clock.advance(1)
    assert login_errors(start_jobs(shared, org, WORKERS)) == (1, WORKERS - 1)
    assert (org.failed_logins, org.login_count) == (2, 0)


def test_a_successful_login_clears_the_record(shared: Shared) -> None:
    org = FakeOrg()
    assert login_errors(start_jobs(shared, org, 4)) == (1, 3)
    check_record(shared.raw_failure(shared.key))
    # The right password, while the failure is shared: refused without a login
    # (the failure belongs to the user, whatever the password).
    with bulk_with(shared, org, right_auth()) as bulk, pytest.raises(LoginError, match=SHARED):
        bulk.create_job("insert", "Contact")
    assert (org.failed_logins, org.login_count) == (1, 0)
    # A worker that does not read failures logs in, and its login clears the record.
    with bulk_with(
        shared, org, right_auth(), policy=SessionPolicy(login_failure_seconds=0)
    ) as bulk:
        assert bulk.create_job("insert", "Contact").id is not None
    assert (org.failed_logins, org.login_count) == (1, 1)
    assert shared.raw_failure(shared.key) is None
    assert shared.store.get_failure(shared.key) is None
    # The wrong-password workers now use the stored session: no login at all.
    jobs = start_jobs(shared, org, 4)
    assert all(job.id is not None for job in jobs), jobs
    assert (org.failed_logins, org.login_count) == (1, 1)


def test_a_successful_login_after_the_ttl_deletes_the_expired_record(shared: Shared) -> None:
    org = FakeOrg()
    assert login_errors(start_jobs(shared, org, 4)) == (1, 3)
    shared.clock.advance(FAILURE_SECONDS)
    with bulk_with(shared, org, right_auth()) as bulk:
        assert bulk.create_job("insert", "Contact").id is not None
    assert (org.failed_logins, org.login_count) == (1, 1)
    assert shared.raw_failure(shared.key) is None  # Redis' own PX had 60 s of real time left


def test_login_failure_seconds_zero_lets_every_worker_try(shared: Shared) -> None:
    org = FakeOrg()
    outcomes = start_jobs(shared, org, WORKERS, policy=SessionPolicy(login_failure_seconds=0))
    assert login_errors(outcomes) == (WORKERS, 0)
    assert org.failed_logins == WORKERS
    assert shared.raw_failure(shared.key) is None


@pytest.mark.anyio
async def test_sixteen_async_clients_cost_one_failed_login_then_one_after_the_ttl(
    ashared: Shared,
) -> None:
    org = FakeOrg()
    assert login_errors(await astart_jobs(ashared, org, WORKERS)) == (1, WORKERS - 1)
    assert (org.failed_logins, org.login_count) == (1, 0)
    check_record(ashared.raw_failure(ashared.key))
    assert login_errors(await astart_jobs(ashared, org, WORKERS)) == (0, WORKERS)
    ashared.clock.advance(FAILURE_SECONDS)
    assert login_errors(await astart_jobs(ashared, org, WORKERS)) == (1, WORKERS - 1)
    assert org.failed_logins == 2


@pytest.mark.anyio
async def test_an_async_successful_login_clears_the_record(ashared: Shared) -> None:
    org = FakeOrg()
    assert login_errors(await astart_jobs(ashared, org, 4)) == (1, 3)
    options = ashared.options(policy=SessionPolicy(login_failure_seconds=0))
    async with AsyncBulk(
        auth=right_auth(),
        store=ashared.store,
        transport=FakeOrgTransport(org),
        session_options=options,
    ) as bulk:
        assert (await bulk.create_job("insert", "Contact")).id is not None
    assert (org.failed_logins, org.login_count) == (1, 1)
    assert ashared.raw_failure(ashared.key) is None
    assert await ashared.store.get_failure(ashared.key) is None


@pytest.mark.anyio
async def test_async_login_failure_seconds_zero_lets_every_task_try(ashared: Shared) -> None:
    org = FakeOrg()
    outcomes = await astart_jobs(
        ashared, org, WORKERS, policy=SessionPolicy(login_failure_seconds=0)
    )
    assert login_errors(outcomes) == (WORKERS, 0)
    assert org.failed_logins == WORKERS
    assert ashared.raw_failure(ashared.key) is None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["file", "redis", "mongodb"])
def test_eight_processes_with_a_wrong_password_cost_one_failed_login(
    mp: Any, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each process builds its own store client and ``Bulk`` and reaches the org
    over HTTP on 127.0.0.1; one login reaches the org, all 8 get INVALID_LOGIN."""
    prefix = f"lf-{uuid.uuid4().hex[:12]}:"
    collection = f"lf_{uuid.uuid4().hex[:12]}"
    if backend == "file":
        spec = StoreSpec("file", str(tmp_path / "sessions"), prefix)
    elif backend == "redis":
        redis_server: ServerProcess = request.getfixturevalue("redis_server")
        spec = StoreSpec("redis", str(redis_server.port), prefix)
    else:
        mongo_server: ServerProcess = request.getfixturevalue("mongo_server")
        spec = StoreSpec("mongodb", f"{mongo_server.port}/{collection}", prefix)
    org = FakeOrg()
    results: Queue[Report] = mp.Queue()
    start = mp.Barrier(PROCESSES)
    try:
        with served(org) as (url, _), processes(mp) as launch:
            workers = [
                launch(wrong_password_worker, spec, url, worker, start, results)
                for worker in range(PROCESSES)
            ]
            reports = collect(results, PROCESSES, workers)
            join_all(workers)
            with spec.open() as store:
                key = session_key(
                    SoapLogin(DEFAULT_USERNAME, WRONG_PASSWORD, login_url=url).fingerprint,
                    prefix=prefix,
                )
                assert isinstance(store, LoginFailureStore)
                recorded = store.get_failure(key)
    finally:
        if backend == "mongodb":
            client = sync_mongo(request.getfixturevalue("mongo_server"))
            client["sfbulk_tests"].drop_collection(collection)
            client.close()
    assert sorted(r["worker"] for r in reports) == list(range(PROCESSES))
    assert {(r["type"], r["code"]) for r in reports} == {("LoginError", "INVALID_LOGIN")}
    assert sum(SHARED in r["text"] for r in reports) == PROCESSES - 1
    assert (org.failed_logins, org.login_count) == (1, 0)
    assert recorded is not None and recorded.code == "INVALID_LOGIN"
    for report in reports:
        assert WRONG_PASSWORD not in report["text"]


# -- waiters, other errors, stores without the protocol ---------------------------------


def test_a_waiter_raises_a_failure_recorded_while_it_waits_for_the_lock(shared: Shared) -> None:
    """Another process holds the lock (for 30 s) and records its failure early:
    the waiter raises it at once instead of waiting for the lock (which would
    end in LockTimeoutError after lock_wait) and never logs in."""
    key = session_key("fp-test", prefix=shared.prefix)
    send = FakeSend()
    manager = SessionManager(
        FakeAuth(), store=shared.store, send=send, clock=shared.clock, key_prefix=shared.prefix
    )
    with shared.store.lock(key, ttl=30, wait=0):
        timer = threading.Timer(
            0.2, shared.store.set_failure, args=(key, failure_at(shared.clock), 60)
        )
        timer.start()
        try:
            with pytest.raises(LoginError, match=SHARED) as refused:
                manager.get()
        finally:
            timer.cancel()
            timer.join()
    assert refused.value.code == "INVALID_LOGIN"
    assert send.calls == 0


@pytest.mark.anyio
async def test_an_async_waiter_raises_a_failure_recorded_while_it_waits(ashared: Shared) -> None:
    key = session_key("fp-test", prefix=ashared.prefix)
    send = AsyncFakeSend()
    manager = AsyncSessionManager(
        FakeAuth(), store=ashared.store, send=send, clock=ashared.clock, key_prefix=ashared.prefix
    )
    outcome: list[BaseException] = []

    async def waiter() -> None:
        try:
            await manager.get()
        except (LoginError, LockTimeoutError) as exc:
            outcome.append(exc)

    async with ashared.store.lock(key, ttl=30, wait=0), anyio.create_task_group() as group:
        group.start_soon(waiter)
        await anyio.sleep(0.2)
        await ashared.store.set_failure(key, failure_at(ashared.clock), 60)
    assert len(outcome) == 1
    assert type(outcome[0]) is LoginError
    assert SHARED in str(outcome[0])
    assert send.calls == 0


def test_transport_errors_are_not_recorded(shared: Shared) -> None:
    good = FakeSend()
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransportError("POST login failed: ConnectError", request=request, sent=False)
        return good(request)

    manager = SessionManager(
        FakeAuth(), store=shared.store, send=flaky, clock=shared.clock, key_prefix=shared.prefix
    )
    with pytest.raises(TransportError):
        manager.get()
    key = session_key("fp-test", prefix=shared.prefix)
    assert shared.store.get_failure(key) is None
    assert manager.get().session_id.get_secret_value() == good.ids[0]
    assert calls["n"] == 2


def test_login_rate_exceeded_is_shared_as_its_own_class(shared: Shared) -> None:
    attempts = {"n": 0}

    def refused(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        raise LoginRateExceededError("LOGIN_RATE_EXCEEDED", "Login Rate Exceeded.", status_code=500)

    managers = [
        SessionManager(
            FakeAuth(),
            store=shared.store,
            send=refused,
            clock=shared.clock,
            key_prefix=shared.prefix,
        )
        for _ in range(2)
    ]
    with pytest.raises(LoginRateExceededError) as first:
        managers[0].get()
    with pytest.raises(LoginRateExceededError) as second:
        managers[1].get()
    assert attempts["n"] == 1
    assert SHARED not in first.value.message
    assert second.value.code == "LOGIN_RATE_EXCEEDED"
    assert second.value.status_code == 500
    assert second.value.message.startswith("Login Rate Exceeded. [a recent login failure")
    recorded = shared.store.get_failure(session_key("fp-test", prefix=shared.prefix))
    assert recorded is not None
    assert recorded.expires_at - recorded.failed_at == timedelta(seconds=FAILURE_SECONDS)
    expires = recorded.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"no login is sent until {expires}" in second.value.message


class PlainStore:
    """A user-written store: only the ``SessionStore`` methods, no failure sharing."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner

    def get(self, key: str) -> Session | None:
        return self.inner.get(key)

    def set(self, key: str, session: Session, ttl: float) -> None:
        self.inner.set(key, session, ttl)

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        return self.inner.renew(key, session, ttl)

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        return self.inner.compare_and_delete(key, session_id)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        return self.inner.lock(key, ttl=ttl, wait=wait)

    def close(self) -> None:
        self.inner.close()


def test_a_store_without_the_protocol_shares_failures_within_one_manager(shared: Shared) -> None:
    org = FakeOrg()
    plain = PlainStore(shared.store)
    assert isinstance(plain, SessionStore) and not isinstance(plain, LoginFailureStore)
    with httpx.Client(transport=FakeOrgTransport(org)) as http:
        manager = SessionManager(
            wrong_auth(), store=plain, send=http.send, clock=shared.clock, key_prefix=shared.prefix
        )
        outcomes = run_threads(WORKERS, lambda _: manager.get())
        assert login_errors(outcomes) == (1, WORKERS - 1)
        assert org.failed_logins == 1
        assert shared.raw_failure(shared.key) is None  # kept in process only
        # Another manager (another process) does not see it: one failed login each.
        other = SessionManager(
            wrong_auth(), store=plain, send=http.send, clock=shared.clock, key_prefix=shared.prefix
        )
        with pytest.raises(LoginError) as own:
            other.get()
        assert SHARED not in own.value.message
        assert org.failed_logins == 2
        # After the TTL the first manager tries again, once.
        shared.clock.advance(FAILURE_SECONDS)
        assert login_errors(run_threads(WORKERS, lambda _: manager.get())) == (1, WORKERS - 1)
        assert org.failed_logins == 3
        # Once it has expired, the right password logs in and everyone uses that session.
        shared.clock.advance(FAILURE_SECONDS)
        fixed = SessionManager(
            right_auth(), store=plain, send=http.send, clock=shared.clock, key_prefix=shared.prefix
        )
        session = fixed.get()
        assert manager.get() == session
    assert (org.failed_logins, org.login_count) == (3, 1)


@pytest.mark.anyio
async def test_an_async_store_without_the_protocol_shares_within_one_manager() -> None:
    class AsyncPlainStore:
        def __init__(self) -> None:
            self.inner = AsyncMemoryStore()

        async def get(self, key: str) -> Session | None:
            return await self.inner.get(key)

        async def set(self, key: str, session: Session, ttl: float) -> None:
            await self.inner.set(key, session, ttl)

        async def renew(self, key: str, session: Session, ttl: float) -> bool:
            return await self.inner.renew(key, session, ttl)

        async def compare_and_delete(self, key: str, session_id: str) -> bool:
            return await self.inner.compare_and_delete(key, session_id)

        def lock(self, key: str, *, ttl: float, wait: float) -> Any:
            return self.inner.lock(key, ttl=ttl, wait=wait)

        async def aclose(self) -> None:
            await self.inner.aclose()

    org = FakeOrg()
    plain = AsyncPlainStore()
    assert not isinstance(plain, AsyncLoginFailureStore)
    async with httpx.AsyncClient(transport=FakeOrgTransport(org)) as http:
        manager = AsyncSessionManager(wrong_auth(), store=plain, send=http.send)
        outcomes = await run_tasks(WORKERS, lambda _: manager.get())
    assert login_errors(outcomes) == (1, WORKERS - 1)
    assert org.failed_logins == 1


def test_a_failed_record_write_keeps_the_failure_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenFailures(MemoryStore):
        def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
            raise SessionStoreError("memory store: the failure could not be written")

    store = BrokenFailures()
    send_calls = {"n": 0}

    def refused(request: httpx.Request) -> httpx.Response:
        send_calls["n"] += 1
        raise LoginError("INVALID_LOGIN", "Invalid username, password, security token")

    manager = SessionManager(FakeAuth(), store=store, send=refused)
    with (
        caplog.at_level(logging.WARNING, logger="sfbulk_sdk.sessions"),
        pytest.raises(LoginError) as first,  # the login's error, not the store's
    ):
        manager.get()
    assert SHARED not in first.value.message
    assert "kept in this process only" in caplog.text
    with pytest.raises(LoginError, match=SHARED):
        manager.get()
    assert send_calls["n"] == 1


def test_nothing_secret_reaches_the_record_the_logs_or_the_errors(
    shared: Shared, caplog: pytest.LogCaptureFixture
) -> None:
    org = FakeOrg()
    with caplog.at_level(logging.DEBUG):
        outcomes = start_jobs(shared, org, 4)
        shared.clock.advance(FAILURE_SECONDS)
        outcomes += start_jobs(shared, org, 4)
    assert login_errors(outcomes) == (2, 6)
    record = shared.raw_failure(shared.key)
    check_record(record)
    assert any("refused (INVALID_LOGIN)" in r.getMessage() for r in caplog.records)
    texts = [json.dumps(record, default=str)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [text for exc in outcomes for text in (str(exc), repr(exc), repr(exc.args))]
    for text in texts:
        for secret in (WRONG_PASSWORD, DEFAULT_SECURITY_TOKEN):
            assert secret not in text, text[:200]


def test_the_policy_checks_login_failure_seconds() -> None:
    assert SessionPolicy().login_failure_seconds == 60
    assert not SessionPolicy(login_failure_seconds=0).shares_login_failures
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError):
            SessionPolicy(login_failure_seconds=bad)

"""The real clients (``Bulk``, ``AsyncBulk``) keeping their session against the fake org.

* A session rejected in the middle of a multi-file query download: the
  stream goes on from where it was, no record lost or repeated, one login.
* The session is read for every request: when another worker on the same
  store has refreshed it, the client uses that session (after one rejection
  with the default cache, without any with ``cache_seconds=0``) and never
  logs in itself.
* 200 jobs by 8 threads, each with its own client, over one store: 1 login.

The org is in process (``FakeOrgTransport(org)``) or served over real HTTP on
127.0.0.1 (``serve_in_thread``). :class:`Recorder` wraps the transport of
the client under test to count its own logins and rejected requests.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import redis.asyncio
from servers import ServerProcess, sync_mongo, sync_redis

import sfbulk_sdk
from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.core import bulk1
from sfbulk_sdk.core.decoders import QueryRecord
from sfbulk_sdk.core.policy import PollPolicy
from sfbulk_sdk.sessions import SessionPolicy
from sfbulk_sdk.stores import AsyncMemoryStore, AsyncSessionStore, MemoryStore, SessionStore
from sfbulk_sdk.stores.file import AsyncFileStore, FileStore
from sfbulk_sdk.stores.mongodb import MongoStore
from sfbulk_sdk.stores.redis import AsyncRedisStore, RedisStore
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)
from sfbulk_sdk.testing.server import serve_in_thread

LOGIN_URL = "https://login.salesforce.com"
ACCOUNTS = 11
FILE_ROWS = 4  # 11 accounts -> result files of 4, 4 and 3 records
FAST_POLL = PollPolicy(initial=0.01, factor=1.5, max_interval=0.1, timeout=30)


def soap(login_url: str = LOGIN_URL) -> SoapLogin:
    return SoapLogin(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=login_url
    )


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes requests to ``inner``; counts SOAP logins and ``InvalidSessionId`` replies."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.logins = 0
        self.rejections = 0

    def _note(self, request: httpx.Request, response: httpx.Response) -> None:
        if "/services/Soap/" in request.url.path:
            self.logins += 1
        elif bulk1.is_invalid_session(response):
            self.rejections += 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.inner.handle_request(request)
        if response.status_code >= 400 or "/services/Soap/" in request.url.path:
            response.read()
            self._note(request, response)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self.inner.handle_async_request(request)
        if response.status_code >= 400 or "/services/Soap/" in request.url.path:
            await response.aread()
            self._note(request, response)
        return response

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


@contextmanager
def org_and_transports(how: str) -> Iterator[tuple[FakeOrg, str, Any, Any]]:
    """``(org, login_url, sync transport, async transport)`` for ``in-process`` or ``http``."""
    org = FakeOrg(query_result_file_rows=FILE_ROWS)
    org.insert("Account", [{"Name": f"Account {i:03d}"} for i in range(ACCOUNTS)])
    if how == "in-process":
        yield org, LOGIN_URL, FakeOrgTransport(org), FakeOrgTransport(org)
        return
    with serve_in_thread(org) as url:
        yield org, url, httpx.HTTPTransport(), httpx.AsyncHTTPTransport()


def expected_ids(org: FakeOrg) -> list[str]:
    return [str(row["Id"]) for row in org.records("Account")]


def check_stream(org: FakeOrg, records: list[QueryRecord]) -> None:
    """The records are the table, in its order: nothing lost, nothing repeated."""
    ids = [str(r["Id"]) for r in records]
    assert len(set(ids)) == len(ids) == ACCOUNTS
    assert ids == expected_ids(org)
    assert [r["Name"] for r in records] == [f"Account {i:03d}" for i in range(ACCOUNTS)]


def start_query(bulk: Bulk) -> tuple[str, str]:
    job = bulk.create_job("query", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
    bulk.close_job(job.id)
    bulk.wait_for_batch(job.id, batch.id)
    assert len(bulk.get_query_result_ids(job.id, batch.id)) == 3
    return job.id, batch.id


async def start_query_async(bulk: AsyncBulk) -> tuple[str, str]:
    job = await bulk.create_job("query", "Account")
    assert job.id is not None
    batch = await bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
    await bulk.close_job(job.id)
    await bulk.wait_for_batch(job.id, batch.id)
    assert len(await bulk.get_query_result_ids(job.id, batch.id)) == 3
    return job.id, batch.id


async def take(stream: AsyncIterator[QueryRecord], count: int | None) -> list[QueryRecord]:
    """The next ``count`` records (all the rest with ``None``), leaving the stream open."""
    taken: list[QueryRecord] = []
    if count == 0:
        return taken
    async for record in stream:
        taken.append(record)
        if count is not None and len(taken) == count:
            break
    return taken


def assert_no_secret_logged(caplog: pytest.LogCaptureFixture, *secrets: str | None) -> None:
    for record in caplog.records:
        message = record.getMessage()
        for secret in secrets:
            assert secret and secret not in message


# Where the org ends every session: after 2 records (in the middle of the first
# file), after 4 (at the boundary of the first and second files), after 6 (in
# the middle of the second file). The open file is read to its end either way;
# the request for the next file is the one rejected.
POSITIONS = [
    pytest.param(2, id="mid-first-file"),
    pytest.param(4, id="file-boundary"),
    pytest.param(6, id="mid-second-file"),
]
HOW = ["in-process", "http"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("consumed", POSITIONS)
def test_sync_download_goes_on_after_the_session_is_rejected_midway(
    how: str, consumed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with org_and_transports(how) as (org, login_url, transport, _):
        recorder = Recorder(transport)
        with Bulk(auth=soap(login_url), transport=recorder, poll=FAST_POLL) as bulk:
            job_id, batch_id = start_query(bulk)
            stream = bulk.iter_query_results(job_id, batch_id)
            head = list(islice(stream, consumed))
            first = bulk.sessionid
            assert org.login_count == 1
            assert org.expire_sessions() == 1
            tail = list(stream)
            second = bulk.sessionid
        check_stream(org, head + tail)
        assert org.login_count == 2
        assert recorder.logins == 2
        assert recorder.rejections == 1  # the request for the next result file
        assert first != second
        assert first is not None and second is not None
        assert first not in repr(bulk) and second not in repr(bulk)
        assert_no_secret_logged(caplog, first, second)


@pytest.mark.anyio
@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("consumed", POSITIONS)
async def test_async_download_goes_on_after_the_session_is_rejected_midway(
    how: str, consumed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with org_and_transports(how) as (org, login_url, _, transport):
        recorder = Recorder(transport)
        async with AsyncBulk(auth=soap(login_url), transport=recorder, poll=FAST_POLL) as bulk:
            job_id, batch_id = await start_query_async(bulk)
            stream = bulk.iter_query_results(job_id, batch_id)
            head = await take(stream, consumed)
            first = bulk.sessionid
            assert org.login_count == 1
            assert org.expire_sessions() == 1
            tail = await take(stream, None)
            second = bulk.sessionid
        check_stream(org, head + tail)
        assert org.login_count == 2
        assert recorder.logins == 2
        assert recorder.rejections == 1
        assert first != second
        assert_no_secret_logged(caplog, first, second)


def test_a_download_rejected_twice_still_loses_and_repeats_nothing() -> None:
    """Every file boundary after an expiry costs one rejection and one login, no records."""
    with org_and_transports("in-process") as (org, login_url, transport, _):
        recorder = Recorder(transport)
        with Bulk(auth=soap(login_url), transport=recorder, poll=FAST_POLL) as bulk:
            job_id, batch_id = start_query(bulk)
            stream = bulk.iter_query_results(job_id, batch_id)
            records = list(islice(stream, 3))
            org.expire_sessions()
            records += list(islice(stream, 4))  # into the second file
            org.expire_sessions()
            records += list(stream)
    check_stream(org, records)
    assert org.login_count == 3
    assert recorder.rejections == 2


# A second worker (its own client and session manager) on the same store
# refreshes the session while the first is in the middle of its download.
CACHE = [
    pytest.param(None, 1, id="default-cache-one-rejection"),
    pytest.param(0.0, 0, id="cache-0-no-rejection"),
]


@pytest.fixture(params=["memory", "file"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> SessionStore:
    if request.param == "memory":
        return MemoryStore()
    return FileStore(tmp_path / "sessions")


@pytest.fixture(params=["memory", "file"])
def shared_async_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncSessionStore:
    if request.param == "memory":
        return AsyncMemoryStore()
    return AsyncFileStore(tmp_path / "sessions")


def options(cache_seconds: float | None) -> dict[str, Any]:
    return {} if cache_seconds is None else {"policy": SessionPolicy(cache_seconds=cache_seconds)}


@pytest.mark.parametrize(("cache_seconds", "rejections"), CACHE)
def test_sync_client_picks_up_a_session_another_worker_refreshed(
    shared_store: SessionStore, cache_seconds: float | None, rejections: int
) -> None:
    with org_and_transports("in-process") as (org, login_url, transport, _):
        mine = Recorder(transport)
        theirs = Recorder(FakeOrgTransport(org))
        with (
            Bulk(
                auth=soap(login_url),
                store=shared_store,
                transport=mine,
                poll=FAST_POLL,
                session_options=options(cache_seconds),
            ) as bulk,
            Bulk(auth=soap(login_url), store=shared_store, transport=theirs) as other,
        ):
            job_id, batch_id = start_query(bulk)
            stream = bulk.iter_query_results(job_id, batch_id)
            head = list(islice(stream, 5))  # into the second file
            old = bulk.sessionid
            org.expire_sessions()
            other.get_job(job_id)  # rejected: the other worker logs in and stores the session
            assert (theirs.logins, theirs.rejections) == (1, 1)
            assert org.login_count == 2
            tail = list(stream)
            assert bulk.sessionid == other.sessionid != old
        check_stream(org, head + tail)
        assert org.login_count == 2
        assert mine.logins == 1  # only the very first login was this client's
        assert mine.rejections == rejections


@pytest.mark.anyio
@pytest.mark.parametrize(("cache_seconds", "rejections"), CACHE)
async def test_async_client_picks_up_a_session_another_worker_refreshed(
    shared_async_store: AsyncSessionStore, cache_seconds: float | None, rejections: int
) -> None:
    with org_and_transports("in-process") as (org, login_url, _, transport):
        mine = Recorder(transport)
        theirs = Recorder(FakeOrgTransport(org))
        async with (
            AsyncBulk(
                auth=soap(login_url),
                store=shared_async_store,
                transport=mine,
                poll=FAST_POLL,
                session_options=options(cache_seconds),
            ) as bulk,
            AsyncBulk(auth=soap(login_url), store=shared_async_store, transport=theirs) as other,
        ):
            job_id, batch_id = await start_query_async(bulk)
            stream = bulk.iter_query_results(job_id, batch_id)
            head = await take(stream, 5)
            old = bulk.sessionid
            org.expire_sessions()
            await other.get_job(job_id)
            assert (theirs.logins, theirs.rejections) == (1, 1)
            assert org.login_count == 2
            tail = await take(stream, None)
            assert bulk.sessionid == other.sessionid != old
        check_stream(org, head + tail)
        assert org.login_count == 2
        assert mine.logins == 1
        assert mine.rejections == rejections


# 200 jobs, 8 workers, one store object shared by 8 clients (each with its own
# session manager, as 8 processes would have).
JOBS = 200
THREADS = 8


@contextmanager
def one_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if backend == "memory":
        yield MemoryStore()
    elif backend == "file":
        yield FileStore(tmp_path / "sessions")
    elif backend == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        client = sync_redis(server)
        try:
            yield RedisStore(client)
        finally:
            client.close()
    else:
        mongo_server: ServerProcess = request.getfixturevalue("mongo_server")
        mongo = sync_mongo(mongo_server)
        name = f"sessions_{uuid.uuid4().hex[:12]}"
        try:
            yield MongoStore(mongo["sfbulk_tests"][name])
        finally:
            mongo["sfbulk_tests"].drop_collection(name)
            mongo.close()


def insert_one(bulk: Bulk, name: str) -> str:
    job = bulk.create_job("insert", "Contact")
    assert job.id is not None
    batch = bulk.add_batch(job.id, f"LastName\n{name}\n")
    bulk.close_job(job.id)
    bulk.wait_for_batch(job.id, batch.id)
    (result,) = bulk.get_batch_results(job.id, batch.id)
    assert result.success and result.id is not None
    return result.id


@pytest.mark.parametrize("backend", ["memory", "file", "redis", "mongodb"])
def test_two_hundred_jobs_by_eight_threads_on_one_store_log_in_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    org = FakeOrg()
    prefix = f"sfbulk-e2e-{uuid.uuid4().hex[:12]}:"
    numbers = iter(range(JOBS))
    take_lock = threading.Lock()
    done: dict[str, str] = {}
    errors: list[BaseException] = []
    sessions: set[str | None] = set()
    start = threading.Barrier(THREADS)

    def worker(store: Any) -> None:
        try:
            with Bulk(
                auth=soap(),
                store=store,
                transport=FakeOrgTransport(org),
                poll=FAST_POLL,
                session_options={"key_prefix": prefix},
            ) as bulk:
                start.wait(30)
                while True:
                    with take_lock:
                        number = next(numbers, None)
                    if number is None:
                        break
                    name = f"Job{number:03d}"
                    done[insert_one(bulk, name)] = name
                sessions.add(bulk.sessionid)
        except BaseException as exc:
            start.abort()
            errors.append(exc)

    with one_store(backend, request, tmp_path) as store:
        threads = [threading.Thread(target=worker, args=(store,)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert not errors, errors[0]
    assert org.login_count == 1
    assert len(sessions) == 1
    assert sorted(done.values()) == [f"Job{n:03d}" for n in range(JOBS)]
    assert {str(r["Id"]): r["LastName"] for r in org.records("Contact")} == done
    assert org.stats()["jobs"] == JOBS


@pytest.mark.anyio
async def test_two_hundred_jobs_by_eight_tasks_on_one_async_redis_store_log_in_once(
    request: pytest.FixtureRequest,
) -> None:
    server: ServerProcess = request.getfixturevalue("redis_server")
    org = FakeOrg()
    prefix = f"sfbulk-e2e-{uuid.uuid4().hex[:12]}:"
    numbers = iter(range(JOBS))
    done: dict[str, str] = {}
    client = redis.asyncio.Redis(host=server.host, port=server.port, socket_timeout=5)
    store = AsyncRedisStore(client)

    async def worker() -> None:
        async with AsyncBulk(
            auth=soap(),
            store=store,
            transport=FakeOrgTransport(org),
            poll=FAST_POLL,
            session_options={"key_prefix": prefix},
        ) as bulk:
            for number in numbers:
                name = f"Job{number:03d}"
                job = await bulk.create_job("insert", "Contact")
                assert job.id is not None
                batch = await bulk.add_batch(job.id, f"LastName\n{name}\n")
                await bulk.close_job(job.id)
                await bulk.wait_for_batch(job.id, batch.id)
                (result,) = await bulk.get_batch_results(job.id, batch.id)
                assert result.success and result.id is not None
                done[result.id] = name

    try:
        async with anyio.create_task_group() as group:
            for _ in range(THREADS):
                group.start_soon(worker)
    finally:
        await client.aclose()
    assert org.login_count == 1
    assert sorted(done.values()) == [f"Job{n:03d}" for n in range(JOBS)]
    assert {str(r["Id"]): r["LastName"] for r in org.records("Contact")} == done


def test_the_first_example_of_the_sessions_guide_is_the_mongodb_store_and_works(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the guide's first example as written (its settings from the environment),
    answer its HTTP with the fake org, and find the session in that collection."""
    server: ServerProcess = request.getfixturevalue("mongo_server")
    guide = (Path(__file__).resolve().parents[2] / "docs" / "sessions.md").read_text()
    first = guide.split("```python\n", 1)[1].split("```", 1)[0]
    assert "store=MongoStore(sessions)" in first and "MongoClient(" in first
    org = FakeOrg()
    for name, value in {
        "SF_USERNAME": DEFAULT_USERNAME,
        "SF_PASSWORD": DEFAULT_PASSWORD,
        "SF_TOKEN": DEFAULT_SECURITY_TOKEN,
        "MONGO_URL": server.url,
    }.items():
        monkeypatch.setenv(name, value)

    class GuideBulk(Bulk):  # the guide's client, its HTTP answered by the fake org
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, transport=FakeOrgTransport(org), **kwargs)

    monkeypatch.setattr(sfbulk_sdk, "Bulk", GuideBulk)
    mongo = sync_mongo(server)
    try:
        exec(first, {"__name__": "sessions_guide"})
        (stored,) = mongo["mydb"]["sfbulk_sessions"].find({"kind": "session"})
        assert stored["_id"] == f"sfbulk:session:{soap().fingerprint}"
        assert org.state.accounts.authenticate(stored["session"]["session_id"]) is not None
        assert org.login_count == 1
        assert [r["Name"] for r in org.records("Account")] == ["Acme"]
    finally:
        mongo["mydb"].drop_collection("sfbulk_sessions")
        mongo.close()

"""Worker processes for the end-to-end session tests (``test_client_sessions_processes.py``).

Every function here is the ``target`` of a ``multiprocessing`` process started
with the ``forkserver`` method (forked from a server process that has only
imported modules, never from the test process), so it builds its own
store client (a directory path, a ``redis.Redis`` or a pymongo collection)
from a :class:`StoreSpec`, its own :class:`~sfbulk_sdk.Bulk` client with
:class:`~sfbulk_sdk.auth.SoapLogin` against the fake org's URL, and reports
through a queue as plain dicts. A worker never reports or prints a session id.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

import httpx

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.core.policy import PollPolicy
from sfbulk_sdk.errors import LoginError
from sfbulk_sdk.models import BatchState
from sfbulk_sdk.sessions import SessionPolicy
from sfbulk_sdk.stores import SessionStore
from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME

#: How long a worker waits at a barrier or for an event before giving up.
SYNC_TIMEOUT = 120.0

#: A wrong password for the fake org's default user (with the right token).
WRONG_PASSWORD = "Wr0ng-Passw0rd-SECRET"

#: Polls of a batch: the fake finishes a batch on the next request, so these
#: sleeps only matter if it ever does not.
FAST_POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.5, timeout=60)

Report = dict[str, Any]


@dataclass(frozen=True)
class StoreSpec:
    """How a child process reaches the shared store (all plain, picklable values).

    ``target`` is a directory (file), a port (redis) or ``port/collection``
    (mongodb); ``key_prefix`` keeps tests that share a server apart.
    """

    backend: str
    target: str
    key_prefix: str

    @contextmanager
    def open(self) -> Iterator[SessionStore]:
        """Build this process's own store (and backend client); close the client after."""
        if self.backend == "file":
            from sfbulk_sdk.stores.file import FileStore

            yield FileStore(self.target)
        elif self.backend == "redis":
            import redis

            from sfbulk_sdk.stores.redis import RedisStore

            client = redis.Redis(host="127.0.0.1", port=int(self.target), socket_timeout=10)
            try:
                yield RedisStore(client)
            finally:
                client.close()
        elif self.backend == "mongodb":
            import pymongo

            from sfbulk_sdk.stores.mongodb import MongoStore

            port, collection = self.target.split("/")
            mongo: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
                "127.0.0.1", int(port), directConnection=True, serverSelectionTimeoutMS=10_000
            )
            try:
                yield MongoStore(mongo["sfbulk_tests"][collection])
            finally:
                mongo.close()
        else:
            raise ValueError(f"unknown backend {self.backend!r}")


def soap_login(login_url: str) -> SoapLogin:
    """The fake org's default user, logging in at ``login_url``."""
    return SoapLogin(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=login_url
    )


def make_bulk(
    login_url: str,
    store: SessionStore,
    spec: StoreSpec,
    *,
    transport: httpx.BaseTransport | None = None,
    **session_options: Any,
) -> Bulk:
    bulk = Bulk(
        auth=soap_login(login_url),
        store=store,
        transport=transport,
        poll=FAST_POLL,
        session_options={"key_prefix": spec.key_prefix, **session_options},
    )
    return bulk


def last_names(worker: int, phase: int, count: int) -> list[str]:
    """The unique ``LastName`` of each record a worker inserts in a phase."""
    return [f"W{worker:02d}-P{phase}-{n}" for n in range(count)]


def insert_contacts(bulk: Bulk, names: list[str]) -> list[str]:
    """One insert job with one batch; the new record ids in upload order."""
    job = bulk.create_job("insert", "Contact")
    assert job.id is not None
    data = "FirstName,LastName\n" + "".join(f"Worker,{name}\n" for name in names)
    batch = bulk.add_batch(job.id, data)
    bulk.close_job(job.id)
    done = bulk.wait_for_batch(job.id, batch.id)
    if done.state is not BatchState.COMPLETED:
        raise AssertionError(f"batch ended {done.state}")
    results = bulk.get_batch_results(job.id, batch.id)
    failed = [r for r in results if not r.success]
    if failed or len(results) != len(names):
        raise AssertionError(f"{len(failed)} of {len(results)} records failed")
    return [str(r.id) for r in results]


def query_contacts(bulk: Bulk, prefix: str) -> list[dict[str, str]]:
    """Every Contact whose ``LastName`` starts with ``prefix``, through all result files."""
    job = bulk.create_job("query", "Contact")
    assert job.id is not None
    soql = f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%'"
    batch = bulk.add_batch(job.id, soql)
    bulk.close_job(job.id)
    bulk.wait_for_batch(job.id, batch.id)
    return [
        {"Id": str(r["Id"]), "LastName": str(r["LastName"])}
        for r in bulk.iter_query_results(job.id, batch.id)
    ]


def _guarded(
    results: Queue[Report], worker: int, barriers: tuple[Barrier, ...], body: Callable[[], None]
) -> None:
    """Run ``body``; on any failure report the traceback and break the barriers."""
    try:
        body()
    except BaseException as exc:
        for barrier in barriers:
            barrier.abort()
        broken = isinstance(exc, threading.BrokenBarrierError)  # another worker's failure
        results.put({"worker": worker, "error": traceback.format_exc(), "broken": broken})
        raise


def two_phase_worker(
    spec: StoreSpec,
    login_url: str,
    worker: int,
    start: Barrier,
    phase_one_done: Barrier,
    phase_two: Event,
    results: Queue[Report],
    every_request: bool,
) -> None:
    """Phase 1: insert 3 Contacts. Wait while the parent expires every session.
    Phase 2: insert 3 more, then query all 6 back (several result files).

    With ``every_request`` the manager reads the store before every request and
    writes ``last_used_at`` back after every success (no cache, no throttle).
    """
    options: dict[str, Any] = {"lock_wait": 60}
    if every_request:
        options["policy"] = SessionPolicy(cache_seconds=0, touch_seconds=0)

    def body() -> None:
        with spec.open() as store, make_bulk(login_url, store, spec, **options) as bulk:
            start.wait(SYNC_TIMEOUT)  # every worker is ready: first use is concurrent
            began = time.monotonic()
            names = last_names(worker, 1, 3)
            ids = insert_contacts(bulk, names)
            results.put(
                {
                    "worker": worker,
                    "phase": 1,
                    "ids": ids,
                    "names": names,
                    "elapsed": time.monotonic() - began,
                }
            )
            phase_one_done.wait(SYNC_TIMEOUT)
            if not phase_two.wait(SYNC_TIMEOUT):
                raise TimeoutError("phase two never started")
            began = time.monotonic()
            names = last_names(worker, 2, 3)
            ids = insert_contacts(bulk, names)
            found = query_contacts(bulk, f"W{worker:02d}-")
            results.put(
                {
                    "worker": worker,
                    "phase": 2,
                    "ids": ids,
                    "names": names,
                    "query": found,
                    "elapsed": time.monotonic() - began,
                }
            )

    _guarded(results, worker, (start, phase_one_done), body)


class HangingLogin(httpx.BaseTransport):
    """Sends everything through ``inner`` except the SOAP login, where it hangs forever.

    It is used only by the process that takes the refresh lock first (the
    manager sends the login while holding the lock). With ``forward`` the
    login reaches the org first and the process hangs before it can store
    the new session; otherwise it hangs before the login is sent. Either way
    it sets ``locked`` and waits for its SIGKILL.
    """

    def __init__(self, inner: httpx.BaseTransport, locked: Event, *, forward: bool) -> None:
        self._inner = inner
        self._locked = locked
        self._forward = forward

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/services/Soap/" not in request.url.path:
            return self._inner.handle_request(request)
        if self._forward:
            response = self._inner.handle_request(request)
            response.read()
            response.close()
        self._locked.set()
        threading.Event().wait()  # until SIGKILL
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._inner.close()


def hanging_holder(
    spec: StoreSpec, login_url: str, lock_ttl: float, locked: Event, forward: bool
) -> None:
    """Take the refresh lock by starting a job, then hang inside the login."""
    with spec.open() as store:
        transport = HangingLogin(httpx.HTTPTransport(), locked, forward=forward)
        with make_bulk(login_url, store, spec, transport=transport, lock_ttl=lock_ttl) as bulk:
            bulk.create_job("insert", "Contact")
    raise AssertionError("the holder finished a job it should have hung in")


def job_after_go_worker(
    spec: StoreSpec,
    login_url: str,
    worker: int,
    lock_ttl: float,
    lock_wait: float,
    ready: Barrier,
    go: Event,
    results: Queue[Report],
) -> None:
    """Get ready, wait for ``go``, then insert 2 Contacts (no login allowed past ``lock_wait``)."""

    def body() -> None:
        with (
            spec.open() as store,
            make_bulk(login_url, store, spec, lock_ttl=lock_ttl, lock_wait=lock_wait) as bulk,
        ):
            ready.wait(SYNC_TIMEOUT)
            if not go.wait(SYNC_TIMEOUT):
                raise TimeoutError("never told to go")
            began = time.monotonic()
            names = last_names(worker, 1, 2)
            ids = insert_contacts(bulk, names)
            results.put(
                {
                    "worker": worker,
                    "ids": ids,
                    "names": names,
                    "elapsed": time.monotonic() - began,
                }
            )

    _guarded(results, worker, (ready,), body)


def many_jobs_worker(
    spec: StoreSpec,
    login_url: str,
    worker: int,
    jobs: list[int],
    start: Barrier,
    results: Queue[Report],
) -> None:
    """Run one single-record insert job per number in ``jobs``."""

    def body() -> None:
        with spec.open() as store, make_bulk(login_url, store, spec) as bulk:
            start.wait(SYNC_TIMEOUT)
            began = time.monotonic()
            done: dict[str, str] = {}
            for number in jobs:
                name = f"Job{number:03d}"
                (record_id,) = insert_contacts(bulk, [name])
                done[record_id] = name
            results.put({"worker": worker, "records": done, "elapsed": time.monotonic() - began})

    _guarded(results, worker, (start,), body)


def wrong_password_worker(
    spec: StoreSpec, login_url: str, worker: int, start: Barrier, results: Queue[Report]
) -> None:
    """Start a job with a wrong password; report the :class:`LoginError` it raised."""

    def body() -> None:
        auth = SoapLogin(
            DEFAULT_USERNAME, WRONG_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=login_url
        )
        with (
            spec.open() as store,
            Bulk(
                auth=auth,
                store=store,
                session_options={"key_prefix": spec.key_prefix, "lock_wait": 60},
            ) as bulk,
        ):
            start.wait(SYNC_TIMEOUT)
            try:
                bulk.create_job("insert", "Contact")
            except LoginError as exc:
                results.put(
                    {
                        "worker": worker,
                        "type": type(exc).__name__,
                        "code": exc.code,
                        "text": str(exc),
                    }
                )
                return
        raise AssertionError("a wrong password opened a session")

    _guarded(results, worker, (start,), body)

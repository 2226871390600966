"""Fixtures for the store and session tests: real servers and one case per backend.

``redis_server`` and ``mongo_server`` (``tests/conftest.py``) are real
servers, started once per test run and shared with the other test folders.

``store_case`` yields every backend, sync and async, behind one async
interface, so the contract tests in ``test_store_contract.py`` are written
once: a sync store is driven through :class:`AsAsync`, which calls it
directly (no threads), so what runs is the sync store's own code.

``mp`` (a ``forkserver`` context) and ``store_spec`` (file, Redis, MongoDB as
plain values a child process can open) serve the tests that run workers in
OS processes.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.forkserver
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
import redis
import redis.asyncio
from client_workers import StoreSpec
from servers import ServerProcess, sync_mongo, sync_redis
from session_fakes import AsAsync, FakeClock, StoreCase

from sfbulk_sdk.stores import AsyncMemoryStore, MemoryStore
from sfbulk_sdk.stores.file import AsyncFileStore, FileStore
from sfbulk_sdk.stores.mongodb import AsyncMongoStore, MongoStore
from sfbulk_sdk.stores.redis import AsyncRedisStore, RedisStore

BACKENDS = ("memory", "file", "redis", "mongodb")
MODES = ("sync", "async")

#: The backends that OS processes can share, for ``store_spec``.
SHARED_BACKENDS = ("file", "redis", "mongodb")
#: What the fork server imports once, so that forking a worker takes milliseconds.
PRELOAD = [
    "client_workers",
    "grant_workers",
    "sfbulk_sdk.stores.file",
    "sfbulk_sdk.stores.redis",
    "sfbulk_sdk.stores.mongodb",
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def mp() -> Iterator[Any]:
    """A ``forkserver`` context: workers are forked from a server process that has
    imported the SDK, the workers module and the backend drivers once, so that
    starting 16 of them takes milliseconds each. Nothing else is inherited: no
    threads, sockets or clients (each worker builds its own). The fork server is
    stopped when the module's tests are done. Where there is no fork server
    (Windows) the workers are spawned instead.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield multiprocessing.get_context("spawn")
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    yield context
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        stop()


@pytest.fixture(params=SHARED_BACKENDS)
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    """Where the workers share their session; a fresh key prefix per test."""
    prefix = f"sfbulk-e2e-{uuid.uuid4().hex[:12]}:"
    backend: str = request.param
    if backend == "file":
        yield StoreSpec("file", str(tmp_path / "sessions"), prefix)
    elif backend == "redis":
        redis_server: ServerProcess = request.getfixturevalue("redis_server")
        yield StoreSpec("redis", str(redis_server.port), prefix)
    else:
        mongo_server: ServerProcess = request.getfixturevalue("mongo_server")
        collection = f"sessions_{uuid.uuid4().hex[:12]}"
        yield StoreSpec("mongodb", f"{mongo_server.port}/{collection}", prefix)
        client = sync_mongo(mongo_server)
        client["sfbulk_tests"].drop_collection(collection)
        client.close()


def _payload(clock: FakeClock, session: dict[str, Any]) -> str:
    deadline = clock().timestamp() + 600
    return json.dumps({"v": 1, "expires_at": deadline, "session": session})


def _text_case(
    backend: str,
    mode: str,
    inner: Any,
    clock: FakeClock,
    read: Callable[[str], str | None],
    write: Callable[[str, str], None],
) -> StoreCase:
    def raw_doc(key: str) -> dict[str, Any] | None:
        text = read(key)
        return None if text is None else json.loads(text)

    store = AsAsync(inner) if mode == "sync" else inner
    return StoreCase(
        backend,
        mode,
        store,
        inner,
        clock,
        raw_doc,
        read,
        lambda key, data: write(key, _payload(clock, data)),
    )


def _file_path(inner: Any, key: str) -> Path:
    sync = inner if isinstance(inner, FileStore) else inner._sync
    path: Path = sync._paths(key)[0]
    return path


@pytest.fixture(params=[f"{backend}-{mode}" for backend in BACKENDS for mode in MODES])
async def store_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    backend, mode = request.param.split("-")
    clock = FakeClock()
    if backend == "memory":
        inner: Any = MemoryStore(clock=clock) if mode == "sync" else AsyncMemoryStore(clock=clock)

        def write_memory(key: str, text: str) -> None:
            inner._entries[key] = (json.loads(text)["expires_at"], text)

        yield _text_case(backend, mode, inner, clock, inner._raw, write_memory)
    elif backend == "file":
        directory = tmp_path / "sessions"
        inner = (
            FileStore(directory, clock=clock)
            if mode == "sync"
            else AsyncFileStore(directory, clock=clock)
        )

        def read_file(key: str) -> str | None:
            path = _file_path(inner, key)
            return path.read_text() if path.exists() else None

        def write_file(key: str, text: str) -> None:
            _file_path(inner, key).write_text(text)

        yield _text_case(backend, mode, inner, clock, read_file, write_file)
    elif backend == "redis":
        server: ServerProcess = request.getfixturevalue("redis_server")
        raw_client = sync_redis(server)

        def read_redis(key: str) -> str | None:
            value = raw_client.get(key)
            return None if value is None else bytes(value).decode()  # type: ignore[arg-type]

        def write_redis(key: str, text: str) -> None:
            raw_client.set(key, text, px=600_000)

        if mode == "sync":
            client = sync_redis(server)
            try:
                yield _text_case(
                    backend, mode, RedisStore(client, clock=clock), clock, read_redis, write_redis
                )
            finally:
                client.close()
        else:
            aclient = redis.asyncio.Redis(host=server.host, port=server.port, socket_timeout=5)
            try:
                yield _text_case(
                    backend,
                    mode,
                    AsyncRedisStore(aclient, clock=clock),
                    clock,
                    read_redis,
                    write_redis,
                )
            finally:
                await aclient.aclose()
        raw_client.close()
    else:
        server = request.getfixturevalue("mongo_server")
        raw_mongo = sync_mongo(server)
        name = f"sessions_{uuid.uuid4().hex[:12]}"
        raw_collection = raw_mongo["sfbulk_tests"][name]

        def read_mongo(key: str) -> dict[str, Any] | None:
            return raw_collection.find_one({"_id": key})

        def write_mongo(key: str, data: dict[str, Any]) -> None:
            raw_collection.replace_one(
                {"_id": key},
                {
                    "_id": key,
                    "kind": "session",
                    "expires_at": clock() + timedelta(minutes=10),
                    "session": data,
                },
                upsert=True,
            )

        def no_text(key: str) -> str | None:
            return None

        if mode == "sync":
            client_m = sync_mongo(server)
            inner = MongoStore(client_m["sfbulk_tests"][name], clock=clock)
            try:
                yield StoreCase(
                    backend, mode, AsAsync(inner), inner, clock, read_mongo, no_text, write_mongo
                )
            finally:
                client_m.close()
        else:
            aclient_m: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(
                server.host, server.port, directConnection=True, serverSelectionTimeoutMS=5000
            )
            inner = AsyncMongoStore(aclient_m["sfbulk_tests"][name], clock=clock)
            try:
                yield StoreCase(
                    backend, mode, inner, inner, clock, read_mongo, no_text, write_mongo
                )
            finally:
                await aclient_m.close()
        raw_collection.drop()
        raw_mongo.close()

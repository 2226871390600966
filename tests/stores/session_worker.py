"""A worker process for the multi-process session tests.

    python session_worker.py hold BACKEND TARGET FINGERPRINT LOCK_TTL
        log in through a SessionManager whose login never returns: prints
        ``LOCKED`` while holding the refresh lock, then waits to be killed.
    python session_worker.py get BACKEND TARGET FINGERPRINT LOCK_TTL
        ``get()`` a session (a login takes 0.3 s) and print one JSON line:
        ``{"logins": <logins made here>, "digest": <sha256 of the id>}``.

BACKEND is ``file`` (TARGET: a directory) or ``redis`` (TARGET: a port).
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from typing import Any

import httpx
from session_fakes import FakeAuth, FakeSend

from sfbulk_sdk.sessions import SessionManager


def make_store(backend: str, target: str) -> Any:
    if backend == "file":
        from sfbulk_sdk.stores.file import FileStore

        return FileStore(target)
    import redis

    from sfbulk_sdk.stores.redis import RedisStore

    return RedisStore(redis.Redis(host="127.0.0.1", port=int(target), socket_timeout=10))


class HangingSend:
    def __call__(self, request: httpx.Request) -> httpx.Response:
        print("LOCKED", flush=True)
        threading.Event().wait()  # until SIGKILL
        raise AssertionError("unreachable")


def main(argv: list[str]) -> int:
    mode, backend, target, fingerprint, lock_ttl = argv
    store = make_store(backend, target)
    if mode == "hold":
        manager = SessionManager(
            FakeAuth(fingerprint), store=store, send=HangingSend(), lock_ttl=float(lock_ttl)
        )
        manager.get()
        return 1
    send = FakeSend(delay=0.3)
    manager = SessionManager(
        FakeAuth(fingerprint), store=store, send=send, lock_ttl=float(lock_ttl), lock_wait=30
    )
    session = manager.get()
    digest = hashlib.sha256(session.session_id.get_secret_value().encode()).hexdigest()
    print(json.dumps({"logins": send.calls, "digest": digest}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

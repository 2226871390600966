"""``AsyncMemoryStore``: the in-process store (see :mod:`sfbulk_sdk.stores.memory`).

Its state is a few dicts behind a :class:`threading.Lock` that is held for
microseconds and never across an ``await``, so one store serves the threads
and the tasks of a process alike. Refresh-token grants are a dict of their own
whose entries never expire (a grant outlives the session).
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from ...core.grants import GrantRecord
from ...core.session_rules import LoginFailure
from ...errors import SessionStoreError
from ...models.session import Session
from .._common import FAILURES, GRANTS, NO_EXPIRY, SESSIONS, Records, deadline_after
from ..base import Clock, grant_key, login_failure_key, utc_now
from .locks import AsyncPollingLock

__all__ = ["AsyncMemoryStore"]

#: An entry: (deadline in epoch seconds, the stored JSON text).
_Entry = tuple[float, str]
_Record = TypeVar("_Record", Session, LoginFailure, GrantRecord)


class AsyncMemoryStore:
    """A thread-safe in-process store.

    The default store of :class:`~sfbulk_sdk.sessions.AsyncSessionManager`.
    ``clock`` decides session expiry (inject one in tests; the refresh lock's
    TTL runs in real time); ``lock_poll`` is how often a waiter retries a held
    lock.
    """

    def __init__(self, *, clock: Clock = utc_now, lock_poll: float = 0.01) -> None:
        self._clock = clock
        self._poll = lock_poll
        self._mutex = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._failures: dict[str, _Entry] = {}
        #: Grants: no TTL, their deadline is NO_EXPIRY.
        self._grants: dict[str, _Entry] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _check_open(self) -> None:
        if self._closed:
            raise SessionStoreError("the memory session store is closed")

    def _live(
        self, table: dict[str, _Entry], name: str, records: Records[_Record]
    ) -> _Record | None:
        """The live record under ``name``; an expired one is dropped on the way."""
        now = self._clock()
        with self._mutex:
            self._check_open()
            entry = table.get(name)
        if entry is None:
            return None
        deadline, raw = entry
        found, expired = records.read(raw, now, where=f"memory store ({name})", deadline=deadline)
        if expired:
            with self._mutex:
                if table.get(name) is entry:
                    del table[name]
        return found

    def _put(self, table: dict[str, _Entry], name: str, raw: str, deadline: float) -> None:
        with self._mutex:
            self._check_open()
            table[name] = (deadline, raw)

    def _stored(self, key: str) -> tuple[Session, float] | None:
        """The stored session and its deadline, ``None`` when absent or unreadable (mutex held)."""
        self._check_open()
        current = self._entries.get(key)
        return None if current is None else SESSIONS.decode(current[1], f"memory store ({key})")

    async def get(self, key: str) -> Session | None:
        return self._live(self._entries, key, SESSIONS)

    async def set(self, key: str, session: Session, ttl: float) -> None:
        deadline = deadline_after(self._clock(), ttl)
        self._put(self._entries, key, SESSIONS.encode(session, deadline), deadline)

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        now = self._clock()
        deadline = deadline_after(now, ttl)
        raw = SESSIONS.encode(session, deadline)
        with self._mutex:
            stored = self._stored(key)
            if stored is None or not SESSIONS.is_live(*stored, now):
                return False
            if not stored[0].same_credential(session):
                return False
            self._entries[key] = (deadline, raw)
            return True

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        with self._mutex:
            stored = self._stored(key)
            if stored is None or stored[0].session_id.get_secret_value() != session_id:
                return False
            del self._entries[key]
            return True

    async def get_failure(self, key: str) -> LoginFailure | None:
        return self._live(self._failures, login_failure_key(key), FAILURES)

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        deadline = deadline_after(self._clock(), ttl)
        self._put(
            self._failures, login_failure_key(key), FAILURES.encode(failure, deadline), deadline
        )

    async def clear_failure(self, key: str) -> None:
        with self._mutex:
            self._check_open()
            self._failures.pop(login_failure_key(key), None)

    async def get_grant(self, key: str) -> GrantRecord | None:
        return self._live(self._grants, grant_key(key), GRANTS)

    async def set_grant(self, key: str, grant: GrantRecord) -> None:
        self._put(self._grants, grant_key(key), GRANTS.encode_lasting(grant), NO_EXPIRY)

    async def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        # Lock time, not session time: monotonic, whatever the injected clock says.
        now = time.monotonic()
        with self._mutex:
            self._check_open()
            lease = self._leases.get(key)
            if lease is not None and lease[1] > now:
                return False
            self._leases[key] = (token, now + ttl)
            return True

    async def _release_lease(self, key: str, token: str) -> bool:
        with self._mutex:
            self._check_open()
            lease = self._leases.get(key)
            if lease is None or lease[0] != token:
                return False
            del self._leases[key]
            return True

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        return AsyncPollingLock(self, key, ttl=ttl, wait=wait, poll=self._poll)

    async def aclose(self) -> None:
        with self._mutex:
            self._closed = True
            self._entries.clear()
            self._leases.clear()
            self._failures.clear()
            self._grants.clear()

    def _raw(self, key: str) -> str | None:
        """The JSON text stored under ``key`` (tests only: it holds the secret).

        ``login_failure_key(key)`` gives the login-failure record, ``grant_key(key)``
        the grant.
        """
        with self._mutex:
            entry = self._entries.get(key) or self._failures.get(key) or self._grants.get(key)
        return None if entry is None else entry[1]

"""In-process session stores: :class:`MemoryStore` and :class:`AsyncMemoryStore`.

They share a session between the threads (or tasks) of one process only, and
are the session manager's default. Entries are kept as the same JSON text the
other backends write, so a stored session is never shared as a live object.
Both also keep failed logins (:class:`~sfbulk_sdk.stores.LoginFailureStore`)
under ``<key>:failed``, expiring by the store's clock.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import datetime

from ..core.session_rules import LoginFailure
from ..errors import SessionStoreError
from ..models.session import Session
from ._common import (
    AsyncPollingLock,
    PollingLock,
    check_lock_args,
    check_ttl,
    decode_failure,
    decode_payload,
    encode_failure,
    encode_payload,
    epoch,
    failure_is_live,
    is_live,
)
from .base import Clock, login_failure_key, utc_now

__all__ = ["AsyncMemoryStore", "MemoryStore"]


class _MemoryState:
    """The thread-safe dict both memory stores are built on (never blocks long)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._mutex = threading.Lock()
        self._entries: dict[str, tuple[float, str]] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._failures: dict[str, tuple[float, str]] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise SessionStoreError("the memory session store is closed")

    def _now(self) -> datetime:
        return self.clock()

    def get(self, key: str) -> Session | None:
        now = self._now()
        with self._mutex:
            self._check_open()
            entry = self._entries.get(key)
        if entry is None:
            return None
        deadline, raw = entry
        decoded = decode_payload(raw, where=f"memory store ({key})")
        if decoded is None:
            return None
        session, _ = decoded
        if not is_live(session, deadline, now):
            with self._mutex:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return session

    def set(self, key: str, session: Session, ttl: float) -> None:
        deadline = epoch(self._now()) + check_ttl(ttl)
        raw = encode_payload(session, deadline)
        with self._mutex:
            self._check_open()
            self._entries[key] = (deadline, raw)

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        now = self._now()
        deadline = epoch(now) + check_ttl(ttl)
        raw = encode_payload(session, deadline)
        with self._mutex:
            self._check_open()
            current = self._entries.get(key)
            if current is None:
                return False
            decoded = decode_payload(current[1], where=f"memory store ({key})")
            if decoded is None:
                return False
            stored, stored_deadline = decoded
            if not is_live(stored, stored_deadline, now) or not stored.same_credential(session):
                return False
            self._entries[key] = (deadline, raw)
            return True

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        with self._mutex:
            self._check_open()
            current = self._entries.get(key)
            if current is None:
                return False
            decoded = decode_payload(current[1], where=f"memory store ({key})")
            if decoded is None or decoded[0].session_id.get_secret_value() != session_id:
                return False
            del self._entries[key]
            return True

    def try_lease(self, key: str, token: str, ttl: float) -> bool:
        # Lock time, not session time: monotonic, whatever the injected clock says.
        now = time.monotonic()
        with self._mutex:
            self._check_open()
            lease = self._leases.get(key)
            if lease is not None and lease[1] > now:
                return False
            self._leases[key] = (token, now + ttl)
            return True

    def release_lease(self, key: str, token: str) -> bool:
        with self._mutex:
            self._check_open()
            lease = self._leases.get(key)
            if lease is None or lease[0] != token:
                return False
            del self._leases[key]
            return True

    def get_failure(self, key: str) -> LoginFailure | None:
        now = self._now()
        name = login_failure_key(key)
        with self._mutex:
            self._check_open()
            entry = self._failures.get(name)
        if entry is None:
            return None
        deadline, raw = entry
        decoded = decode_failure(raw, where=f"memory store ({name})")
        if decoded is None:
            return None
        failure, _ = decoded
        if not failure_is_live(failure, deadline, now):
            with self._mutex:
                if self._failures.get(name) is entry:
                    del self._failures[name]
            return None
        return failure

    def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        deadline = epoch(self._now()) + check_ttl(ttl)
        raw = encode_failure(failure, deadline)
        with self._mutex:
            self._check_open()
            self._failures[login_failure_key(key)] = (deadline, raw)

    def clear_failure(self, key: str) -> None:
        with self._mutex:
            self._check_open()
            self._failures.pop(login_failure_key(key), None)

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            self._entries.clear()
            self._leases.clear()
            self._failures.clear()

    def raw(self, key: str) -> str | None:
        """The stored JSON text (for tests and diagnostics)."""
        with self._mutex:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._failures.get(key)
        return None if entry is None else entry[1]


class MemoryStore:
    """A thread-safe in-process store (the default of :class:`~sfbulk_sdk.sessions.SessionManager`).

    ``clock`` decides session expiry (inject one in tests; the refresh lock's
    TTL runs in real time); ``lock_poll`` is how often a waiter retries a held
    lock.
    """

    def __init__(self, *, clock: Clock = utc_now, lock_poll: float = 0.01) -> None:
        self._state = _MemoryState(clock)
        self._poll = lock_poll

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def get(self, key: str) -> Session | None:
        return self._state.get(key)

    def set(self, key: str, session: Session, ttl: float) -> None:
        self._state.set(key, session, ttl)

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        return self._state.renew(key, session, ttl)

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        return self._state.compare_and_delete(key, session_id)

    def get_failure(self, key: str) -> LoginFailure | None:
        return self._state.get_failure(key)

    def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._state.set_failure(key, failure, ttl)

    def clear_failure(self, key: str) -> None:
        self._state.clear_failure(key)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        lock_ttl, lock_wait = check_lock_args(ttl, wait)
        state = self._state
        return PollingLock(
            key,
            try_acquire=lambda token: state.try_lease(key, token, lock_ttl),
            release=lambda token: state.release_lease(key, token),
            wait=lock_wait,
            poll=self._poll,
        )

    def close(self) -> None:
        self._state.close()

    def _raw(self, key: str) -> str | None:
        """The JSON text stored under ``key`` (tests only: it holds the secret).

        ``login_failure_key(key)`` gives the login-failure record.
        """
        return self._state.raw(key)


class AsyncMemoryStore:
    """The async twin of :class:`MemoryStore` (works under asyncio and trio)."""

    def __init__(self, *, clock: Clock = utc_now, lock_poll: float = 0.01) -> None:
        self._state = _MemoryState(clock)
        self._poll = lock_poll

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    async def get(self, key: str) -> Session | None:
        return self._state.get(key)

    async def set(self, key: str, session: Session, ttl: float) -> None:
        self._state.set(key, session, ttl)

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        return self._state.renew(key, session, ttl)

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        return self._state.compare_and_delete(key, session_id)

    async def get_failure(self, key: str) -> LoginFailure | None:
        return self._state.get_failure(key)

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._state.set_failure(key, failure, ttl)

    async def clear_failure(self, key: str) -> None:
        self._state.clear_failure(key)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        lock_ttl, lock_wait = check_lock_args(ttl, wait)
        state = self._state

        async def try_acquire(token: str) -> bool:
            return state.try_lease(key, token, lock_ttl)

        async def release(token: str) -> bool:
            return state.release_lease(key, token)

        return AsyncPollingLock(
            key,
            try_acquire=try_acquire,
            release=release,
            wait=lock_wait,
            poll=self._poll,
            ttl=lock_ttl,
        )

    async def aclose(self) -> None:
        self._state.close()

    def _raw(self, key: str) -> str | None:
        """The JSON text stored under ``key`` (tests only: it holds the secret).

        ``login_failure_key(key)`` gives the login-failure record.
        """
        return self._state.raw(key)

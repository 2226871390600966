"""Keeping a session: freshness policy and single-flight refresh.

Two layers:

* :class:`SessionPolicy` is pure (sans-IO): given a session and ``now`` it
  says whether the session is fresh, how long a store may keep it and whether
  its ``last_used_at`` is worth writing back. It never reads a clock or a
  store.
* :class:`SessionManager` and :class:`AsyncSessionManager` are the I/O shells
  the clients call on every request: ``get()`` before a request, ``touch()``
  after a successful one, ``invalidate()`` when Salesforce rejects the id.

How ``get()`` decides
---------------------
1. The in-process cache: a session this manager read or wrote less than
   ``policy.cache_seconds`` ago (default 5 s) and still fresh is returned
   without touching the store.
2. The store: a fresh session stored by any process is used (and cached).
3. Otherwise single flight: take the store's refresh lock (TTL ``lock_ttl``),
   read the store again (another process may have logged in meanwhile), and
   only if it is still empty or stale log in, store the new session with a TTL
   equal to its remaining lifetime and release the lock. While another process
   holds the lock, a waiter reads the store every 0.1 s and returns the
   session as soon as the holder has stored it; after ``lock_wait`` seconds
   without lock or session it raises :class:`~sfbulk_sdk.errors.LockTimeoutError`.

When the login itself fails
---------------------------
A login Salesforce refuses (:class:`~sfbulk_sdk.errors.LoginError`: a wrong
password, ``PASSWORD_LOCKOUT``, ``LOGIN_RATE_EXCEEDED``, ...) is recorded as a
:class:`LoginFailure` (fault code, message, times; no secret) for
``policy.login_failure_seconds`` (60 s; 0 turns this off) before the lock is
released. Whoever would log in next (the waiters between two lock attempts,
a worker right after taking the lock, any later ``get()`` finding no fresh
session) raises the recorded error instead of sending another login, until
the record expires: one wrong password costs one failed login, not one per
worker, so Salesforce does not lock the user out. A successful login clears
the record. Transport errors are not recorded (the client retries them).

The record is kept in the store when it implements the optional
:class:`~sfbulk_sdk.stores.LoginFailureStore` (every built-in store does), so
every process sharing the store sees it; otherwise (or when writing it fails)
the manager keeps it in process, shared by the threads or tasks using it.

A session rejected by Salesforce is dropped with ``invalidate(rejected)``: the
store entry is deleted only if it still holds *that* id (compare-and-delete),
so a session another process already refreshed survives, and the in-process
cache is cleared so that the next ``get()`` reads the store. That is why the
cache may be short-lived rather than absent: the store is read after every
rejection, and at least every ``cache_seconds`` otherwise.

``touch(session)`` writes ``last_used_at`` back (so the store's TTL follows
Salesforce's inactivity timer) at most once per touch interval, through
``store.renew``: a conditional write that succeeds only while the store still
holds that session, so a late touch never brings back a dropped session.

Static sessions
---------------
A :class:`~sfbulk_sdk.auth.StaticSession` has no credentials to log in
again. The manager hands out its session without any store (every process
already holds the id), ``touch()`` does nothing, and once it has been
invalidated ``get()`` raises :class:`~sfbulk_sdk.errors.SessionError`
instead of returning an id known to be dead.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack
from datetime import datetime

import httpx

from ._base import wrap_transport_error
from .auth.base import Authenticator, StaticSession
from .core.session_rules import LoginFailure, SessionPolicy
from .errors import (
    InvalidInputError,
    LockTimeoutError,
    LoginError,
    SessionError,
    SessionStoreError,
)
from .models.session import Session
from .stores._common import session_digest
from .stores.base import (
    DEFAULT_KEY_PREFIX,
    AsyncLoginFailureStore,
    AsyncSessionStore,
    Clock,
    LoginFailureStore,
    SessionStore,
    session_key,
    utc_now,
)
from .stores.memory import AsyncMemoryStore, MemoryStore

__all__ = [
    "DEFAULT_LOGIN_TIMEOUT",
    "AsyncSessionManager",
    "LoginFailure",
    "SessionManager",
    "SessionPolicy",
]

logger = logging.getLogger("sfbulk_sdk.sessions")

#: Timeout of the login request when the manager sends it with its own client.
DEFAULT_LOGIN_TIMEOUT = 30.0

#: A waiter tries the refresh lock for this long at a time, and reads the store
#: in between, so it stops waiting as soon as the holder has stored a session.
_LOCK_SLICE = 0.1

_STATIC_REJECTED = (
    "the static session id was rejected by Salesforce (expired, logged out or revoked) "
    "and a StaticSession cannot log in again: create the client with a new session id, "
    "or with a login authenticator so that the session can be refreshed"
)


def _digest(session: Session) -> str:
    return session_digest(session.session_id.get_secret_value())


def _check_lock_settings(lock_ttl: float, lock_wait: float) -> None:
    if not math.isfinite(lock_ttl) or lock_ttl <= 0:
        raise InvalidInputError(f"lock_ttl must be a positive number of seconds, not {lock_ttl!r}")
    if not math.isfinite(lock_wait) or lock_wait < 0:
        raise InvalidInputError(f"lock_wait must be >= 0 seconds, not {lock_wait!r}")


class _State:
    """What both managers keep in process (assignments are atomic)."""

    def __init__(self, auth: Authenticator, key: str, clock: Clock, policy: SessionPolicy) -> None:
        self.auth = auth
        self.key = key
        self.clock = clock
        self.policy = policy
        self.cache: tuple[Session, datetime] | None = None
        self.rejected: str | None = None
        self.static: Session | None = None
        self.static_rejected = False
        #: A failed login kept in process (the store cannot share it).
        self.failure: LoginFailure | None = None
        if isinstance(auth, StaticSession):
            self.static = auth.parse_login_response(None, now=clock())

    def static_session(self) -> Session:
        assert self.static is not None
        if self.static_rejected:
            raise SessionError(_STATIC_REJECTED)
        return self.static

    def usable(self, session: Session | None, now: datetime) -> bool:
        return (
            session is not None
            and self.policy.is_fresh(session, now)
            and (self.rejected is None or _digest(session) != self.rejected)
        )

    def cached(self, now: datetime) -> Session | None:
        entry = self.cache
        if entry is None:
            return None
        session, cached_at = entry
        if self.policy.cache_valid(cached_at, now) and self.usable(session, now):
            return session
        return None

    def remember(self, session: Session, now: datetime) -> None:
        self.cache = (session, now)

    def logged_in(self, session: Session, now: datetime) -> None:
        # A login vouches for its id, even one rejected before (Salesforce may
        # hand out the same id again): never let the guard force a re-login loop.
        self.rejected = None
        self.remember(session, now)

    def reject(self, rejected: Session) -> None:
        entry = self.cache
        if entry is not None and entry[0].same_credential(rejected):
            self.cache = None
        self.rejected = _digest(rejected)
        if self.static is not None and rejected.same_credential(self.static):
            self.static_rejected = True

    def touch_candidate(self, session: Session, now: datetime) -> Session | None:
        """The touched copy to write back, or ``None`` when not due."""
        if self.rejected is not None and _digest(session) == self.rejected:
            return None
        entry = self.cache
        latest = session
        if entry is not None and entry[0].same_credential(session):
            latest = max(entry[0], session, key=lambda s: s.last_used_at)
        if not self.policy.needs_touch(latest, now):
            return None
        return latest.touched(now)

    def after_touch(self, touched: Session, renewed: bool, now: datetime) -> None:
        if renewed:
            self.remember(touched, now)
        else:
            # The store holds another session (or none): read it on the next get().
            entry = self.cache
            if entry is not None and entry[0].same_credential(touched):
                self.cache = None

    def local_failure(self, now: datetime) -> LoginFailure | None:
        """The active failure kept in process, if any."""
        failure = self.failure
        if failure is None or failure.is_active(now):
            return failure
        self.failure = None
        return None

    def new_failure(self, error: LoginError) -> LoginFailure | None:
        """The record of ``error`` to share, or ``None`` when sharing is off."""
        failure = self.policy.login_failure(error, self.clock())
        if failure is not None:
            logger.warning(
                "login for %s refused (%s); no login is sent for it again for %gs",
                self.key,
                failure.code,
                self.policy.login_failure_seconds,
            )
        return failure

    def refuse(self, failure: LoginFailure, now: datetime) -> LoginError:
        """The error raised instead of a login while ``failure`` is active."""
        logger.debug(
            "not logging in for %s: a login failed with %s at %s (shared until %s)",
            self.key,
            failure.code,
            failure.failed_at.isoformat(),
            failure.expires_at.isoformat(),
        )
        return failure.error(now)

    def lock_timeout(self, wait: float) -> LockTimeoutError:
        return LockTimeoutError(
            f"the refresh lock of {self.key!r} was not acquired within {wait:g}s "
            "and no other process stored a fresh session meanwhile"
        )

    def stored_ttl(self, session: Session, now: datetime) -> float | None:
        ttl = self.policy.store_ttl(session, now)
        if ttl <= 0:
            logger.warning("a new session for %s is already expired; not storing it", self.key)
            return None
        return ttl


class SessionManager:
    """Gives every request a valid session, sharing one login across processes.

    ``auth``
        builds and parses the login (:class:`~sfbulk_sdk.auth.Authenticator`).
    ``store``
        where the session is shared; default a private :class:`MemoryStore`
        (threads of this process only). Pass a Redis, MongoDB or file store to
        share it between processes.
    ``send``
        sends the login request (the client passes its own, with its retry and
        timeout policy). By default the manager uses a private
        :class:`httpx.Client` with a 30 s timeout, closed by :meth:`close`.
    ``key_prefix``
        the store key is ``key_prefix + auth.fingerprint``.
    ``clock``
        the current time (aware UTC); inject one in tests.
    ``lock_ttl`` / ``lock_wait``
        the refresh lock expires after ``lock_ttl`` seconds even if its holder
        died; a waiter gives up after ``lock_wait`` seconds with
        :class:`~sfbulk_sdk.errors.LockTimeoutError`.
    ``policy``
        the :class:`SessionPolicy` (freshness margin, touch throttle, cache).

    The manager is thread-safe. It closes only what it created (its default
    store and HTTP client): a store passed in belongs to the caller.
    """

    def __init__(
        self,
        auth: Authenticator,
        *,
        store: SessionStore | None = None,
        send: Callable[[httpx.Request], httpx.Response] | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        clock: Clock = utc_now,
        lock_ttl: float = 30.0,
        lock_wait: float = 60.0,
        policy: SessionPolicy | None = None,
    ) -> None:
        _check_lock_settings(lock_ttl, lock_wait)
        self._own_store = store is None
        self._store: SessionStore = MemoryStore(clock=clock) if store is None else store
        self._failures: LoginFailureStore | None = (
            self._store if isinstance(self._store, LoginFailureStore) else None
        )
        self._send = send
        self._http: httpx.Client | None = None
        self._http_mutex = threading.Lock()
        self._touching = threading.Lock()
        self._lock_ttl = lock_ttl
        self._lock_wait = lock_wait
        self._state = _State(
            auth, session_key(auth.fingerprint, prefix=key_prefix), clock, policy or SessionPolicy()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self._state.key!r}, store={self._store!r})"

    def get(self) -> Session:
        """A fresh session: cached, from the store, or from a single-flight login."""
        state = self._state
        if state.static is not None:
            return state.static_session()
        now = state.clock()
        session = state.cached(now)
        if session is not None:
            return session
        session = self._read(now)
        if session is not None:
            return session
        self._raise_if_failed()
        deadline = time.monotonic() + self._lock_wait
        while True:
            with ExitStack() as held:
                slice_ = max(0.0, min(_LOCK_SLICE, deadline - time.monotonic()))
                try:
                    held.enter_context(self._store.lock(state.key, ttl=self._lock_ttl, wait=slice_))
                except LockTimeoutError:
                    pass
                else:
                    return self._refresh_locked()
            # Someone else holds the lock: the session they log in ends the
            # wait, and so does the failure they record.
            session = self._read(state.clock())
            if session is not None:
                return session
            self._raise_if_failed()
            if time.monotonic() >= deadline:
                raise state.lock_timeout(self._lock_wait)

    def _refresh_locked(self) -> Session:
        state = self._state
        session = self._read(state.clock())
        if session is not None:
            return session
        self._raise_if_failed()
        try:
            session = self._login()
        except LoginError as exc:
            self._record_failure(exc)  # before the lock is released
            raise
        now = state.clock()
        ttl = state.stored_ttl(session, now)
        if ttl is not None:
            self._store.set(state.key, session, ttl)
        self._clear_failure()
        state.logged_in(session, now)
        return session

    def _raise_if_failed(self) -> None:
        """Raise the recorded login failure, if one is active: no login is sent."""
        state = self._state
        if not state.policy.shares_login_failures:
            return
        now = state.clock()
        failure = state.local_failure(now)
        if failure is None and self._failures is not None:
            failure = self._failures.get_failure(state.key)
        if failure is not None and failure.is_active(now):
            raise state.refuse(failure, now)

    def _record_failure(self, error: LoginError) -> None:
        state = self._state
        failure = state.new_failure(error)
        if failure is None:
            return
        if self._failures is not None:
            try:
                self._failures.set_failure(state.key, failure, state.policy.login_failure_seconds)
                return
            except SessionStoreError as exc:
                logger.warning(
                    "could not share the login failure of %s through the store (%s); "
                    "it is kept in this process only",
                    state.key,
                    exc,
                )
        state.failure = failure

    def _clear_failure(self) -> None:
        state = self._state
        state.failure = None
        if self._failures is None:
            return
        try:
            self._failures.clear_failure(state.key)
        except SessionStoreError as exc:
            logger.warning(
                "could not clear the login failure of %s in the store (%s); it expires by itself",
                state.key,
                exc,
            )

    def invalidate(self, rejected: Session) -> None:
        """Forget ``rejected`` (Salesforce refused it); the next :meth:`get` refreshes.

        The store entry is deleted only if it still holds this session id.
        """
        state = self._state
        state.reject(rejected)
        if state.static is not None:
            logger.warning("the static session for %s was rejected", state.key)
            return
        deleted = self._store.compare_and_delete(state.key, rejected.session_id.get_secret_value())
        logger.info(
            "session for %s invalidated (%s)",
            state.key,
            "store entry deleted" if deleted else "store already holds another session",
        )

    def touch(self, session: Session) -> None:
        """Record a successful call with ``session``; writes back at most once per interval."""
        state = self._state
        if state.static is not None:
            return
        now = state.clock()
        touched = state.touch_candidate(session, now)
        if touched is None or not self._touching.acquire(blocking=False):
            return
        try:
            renewed = self._store.renew(state.key, touched, state.policy.store_ttl(touched, now))
            state.after_touch(touched, renewed, now)
        finally:
            self._touching.release()

    def close(self) -> None:
        """Close the default store and HTTP client if this manager created them."""
        with self._http_mutex:
            http, self._http = self._http, None
        if http is not None:
            http.close()
        if self._own_store:
            self._store.close()

    def _read(self, now: datetime) -> Session | None:
        state = self._state
        session = self._store.get(state.key)
        if session is None or not state.usable(session, now):
            return None
        state.remember(session, now)
        return session

    def _login(self) -> Session:
        state = self._state
        request = state.auth.login_request()
        response = self._send_login(request) if request is not None else None
        session = state.auth.parse_login_response(response, now=state.clock())
        logger.info("logged in for %s (session valid %ss idle)", state.key, session.seconds_valid)
        return session

    def _send_login(self, request: httpx.Request) -> httpx.Response:
        if self._send is not None:
            return self._send(request)
        with self._http_mutex:
            if self._http is None:
                self._http = httpx.Client(timeout=DEFAULT_LOGIN_TIMEOUT)
            http = self._http
        try:
            response = http.send(request)
            response.read()
        except httpx.HTTPError as exc:
            raise wrap_transport_error(exc, request) from exc
        return response


class AsyncSessionManager:
    """The async twin of :class:`SessionManager` (same arguments, awaited methods).

    ``store`` defaults to a private :class:`AsyncMemoryStore`; ``send`` is an
    async callable (default: a private :class:`httpx.AsyncClient`).
    """

    def __init__(
        self,
        auth: Authenticator,
        *,
        store: AsyncSessionStore | None = None,
        send: Callable[[httpx.Request], Awaitable[httpx.Response]] | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        clock: Clock = utc_now,
        lock_ttl: float = 30.0,
        lock_wait: float = 60.0,
        policy: SessionPolicy | None = None,
    ) -> None:
        _check_lock_settings(lock_ttl, lock_wait)
        self._own_store = store is None
        self._store: AsyncSessionStore = AsyncMemoryStore(clock=clock) if store is None else store
        self._failures: AsyncLoginFailureStore | None = (
            self._store if isinstance(self._store, AsyncLoginFailureStore) else None
        )
        self._send = send
        self._http: httpx.AsyncClient | None = None
        self._touching = False
        self._lock_ttl = lock_ttl
        self._lock_wait = lock_wait
        self._state = _State(
            auth, session_key(auth.fingerprint, prefix=key_prefix), clock, policy or SessionPolicy()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self._state.key!r}, store={self._store!r})"

    async def get(self) -> Session:
        """A fresh session: cached, from the store, or from a single-flight login."""
        state = self._state
        if state.static is not None:
            return state.static_session()
        now = state.clock()
        session = state.cached(now)
        if session is not None:
            return session
        session = await self._read(now)
        if session is not None:
            return session
        await self._raise_if_failed()
        deadline = time.monotonic() + self._lock_wait
        while True:
            async with AsyncExitStack() as held:
                slice_ = max(0.0, min(_LOCK_SLICE, deadline - time.monotonic()))
                try:
                    await held.enter_async_context(
                        self._store.lock(state.key, ttl=self._lock_ttl, wait=slice_)
                    )
                except LockTimeoutError:
                    pass
                else:
                    return await self._refresh_locked()
            # Someone else holds the lock: the session they log in ends the
            # wait, and so does the failure they record.
            session = await self._read(state.clock())
            if session is not None:
                return session
            await self._raise_if_failed()
            if time.monotonic() >= deadline:
                raise state.lock_timeout(self._lock_wait)

    async def _refresh_locked(self) -> Session:
        state = self._state
        session = await self._read(state.clock())
        if session is not None:
            return session
        await self._raise_if_failed()
        try:
            session = await self._login()
        except LoginError as exc:
            await self._record_failure(exc)  # before the lock is released
            raise
        now = state.clock()
        ttl = state.stored_ttl(session, now)
        if ttl is not None:
            await self._store.set(state.key, session, ttl)
        await self._clear_failure()
        state.logged_in(session, now)
        return session

    async def _raise_if_failed(self) -> None:
        """Raise the recorded login failure, if one is active: no login is sent."""
        state = self._state
        if not state.policy.shares_login_failures:
            return
        now = state.clock()
        failure = state.local_failure(now)
        if failure is None and self._failures is not None:
            failure = await self._failures.get_failure(state.key)
        if failure is not None and failure.is_active(now):
            raise state.refuse(failure, now)

    async def _record_failure(self, error: LoginError) -> None:
        state = self._state
        failure = state.new_failure(error)
        if failure is None:
            return
        if self._failures is not None:
            try:
                await self._failures.set_failure(
                    state.key, failure, state.policy.login_failure_seconds
                )
                return
            except SessionStoreError as exc:
                logger.warning(
                    "could not share the login failure of %s through the store (%s); "
                    "it is kept in this process only",
                    state.key,
                    exc,
                )
        state.failure = failure

    async def _clear_failure(self) -> None:
        state = self._state
        state.failure = None
        if self._failures is None:
            return
        try:
            await self._failures.clear_failure(state.key)
        except SessionStoreError as exc:
            logger.warning(
                "could not clear the login failure of %s in the store (%s); it expires by itself",
                state.key,
                exc,
            )

    async def invalidate(self, rejected: Session) -> None:
        """Forget ``rejected`` (Salesforce refused it); the next :meth:`get` refreshes.

        The store entry is deleted only if it still holds this session id.
        """
        state = self._state
        state.reject(rejected)
        if state.static is not None:
            logger.warning("the static session for %s was rejected", state.key)
            return
        deleted = await self._store.compare_and_delete(
            state.key, rejected.session_id.get_secret_value()
        )
        logger.info(
            "session for %s invalidated (%s)",
            state.key,
            "store entry deleted" if deleted else "store already holds another session",
        )

    async def touch(self, session: Session) -> None:
        """Record a successful call with ``session``; writes back at most once per interval."""
        state = self._state
        if state.static is not None:
            return
        now = state.clock()
        touched = state.touch_candidate(session, now)
        if touched is None or self._touching:
            return
        self._touching = True
        try:
            renewed = await self._store.renew(
                state.key, touched, state.policy.store_ttl(touched, now)
            )
            state.after_touch(touched, renewed, now)
        finally:
            self._touching = False

    async def close(self) -> None:
        """Close the default store and HTTP client if this manager created them."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        if self._own_store:
            await self._store.close()

    async def _read(self, now: datetime) -> Session | None:
        state = self._state
        session = await self._store.get(state.key)
        if session is None or not state.usable(session, now):
            return None
        state.remember(session, now)
        return session

    async def _login(self) -> Session:
        state = self._state
        request = state.auth.login_request()
        response = await self._send_login(request) if request is not None else None
        session = state.auth.parse_login_response(response, now=state.clock())
        logger.info("logged in for %s (session valid %ss idle)", state.key, session.seconds_valid)
        return session

    async def _send_login(self, request: httpx.Request) -> httpx.Response:
        if self._send is not None:
            return await self._send(request)
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=DEFAULT_LOGIN_TIMEOUT)
        try:
            response = await self._http.send(request)
            await response.aread()
        except httpx.HTTPError as exc:
            raise wrap_transport_error(exc, request) from exc
        return response

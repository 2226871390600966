# GENERATED from sfbulk_sdk/_async/sessions.py by scripts/unasync.py: do not edit.
"""``SessionManager``: one login shared by every worker, with single-flight refresh.

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

The login request goes out through ``send``: the client passes its own HTTP
client's send (with its timeouts and error wrapping); the manager owns no
transport of its own.

When the login itself fails
---------------------------
A login Salesforce refuses (:class:`~sfbulk_sdk.errors.LoginError`: a wrong
password, ``PASSWORD_LOCKOUT``, ``LOGIN_RATE_EXCEEDED``, ...) is recorded as a
:class:`~sfbulk_sdk.core.session_rules.LoginFailure` (fault code, message,
times; no secret) for ``policy.login_failure_seconds`` (60 s; 0 turns this
off) before the lock is released. Whoever would log in next (the waiters
between two lock attempts, a worker right after taking the lock, any later
``get()`` finding no fresh session) raises the recorded error instead of
sending another login, until the record expires: one wrong password costs one
failed login, not one per worker, so Salesforce does not lock the user out. A
successful login clears the record. Transport errors are not recorded (the
client retries them).

The record is kept in the store when it implements the optional
:class:`~sfbulk_sdk.stores.LoginFailureStore` (every built-in store
does), so every process sharing the store sees it; otherwise (or when writing
it fails) the manager keeps it in process.

Rejection and use
-----------------
``invalidate(rejected)`` drops a session Salesforce refused: the store entry
is deleted only if it still holds *that* id (compare-and-delete), so a session
another process already refreshed survives, and the cache is cleared so that
the next ``get()`` reads the store. ``touch(session)`` writes ``last_used_at``
back (so the store's TTL follows Salesforce's inactivity timer) at most once
per touch interval, through ``store.renew``: a conditional write that succeeds
only while the store still holds that session.

Sessions that cannot be refreshed
---------------------------------
An authenticator whose ``can_refresh`` is false (a
:class:`~sfbulk_sdk.auth.StaticSession`) has nothing to log in again with.
The manager hands out its session without any store, ``touch()`` does
nothing, and once it has been invalidated ``get()`` raises
:class:`~sfbulk_sdk.errors.SessionError` instead of returning an id known to
be dead.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from time import sleep as default_sleep

import httpx

from .._shield import finish_unshielded
from ..auth.base import Authenticator, RefreshTokenGrant
from ..core.clock import Clock, utc_now
from ..core.grants import (
    GrantRecord,
    UnreadableGrantError,
    choose_token,
    lost_reply_error,
    reply_may_be_lost,
    revoked_error,
    supersedes,
)
from ..core.session_rules import SessionPolicy
from ..core.session_state import SessionState
from ..errors import (
    InvalidGrantError,
    InvalidInputError,
    LockTimeoutError,
    LoginError,
    RefreshTokenRevokedError,
    SessionError,
    SessionStoreError,
    SfBulkError,
)
from ..models.session import Session
from ..stores.base import (
    DEFAULT_KEY_PREFIX,
    GrantStore,
    LoginFailureStore,
    SessionStore,
    session_key,
)
from ..stores.memory import MemoryStore

__all__ = ["SendLogin", "SessionManager"]

logger = logging.getLogger("sfbulk_sdk.sessions")

#: Sends a login request and returns the reply with its body read.
SendLogin = Callable[[httpx.Request], httpx.Response]

#: A waiter tries the refresh lock for this long at a time, and reads the store
#: in between, so it stops waiting as soon as the holder has stored a session.
_LOCK_SLICE = 0.1


def _check_lock_settings(
    lock_ttl: float, lock_wait: float, login_timeout: float | None, rotating: bool
) -> None:
    if not math.isfinite(lock_ttl) or lock_ttl <= 0:
        raise InvalidInputError(f"lock_ttl must be a positive number of seconds, not {lock_ttl!r}")
    if not math.isfinite(lock_wait) or lock_wait < 0:
        raise InvalidInputError(f"lock_wait must be >= 0 seconds, not {lock_wait!r}")
    if login_timeout is None:
        return
    if not math.isfinite(login_timeout) or login_timeout <= 0:
        raise InvalidInputError(
            f"login_timeout must be a positive number of seconds, not {login_timeout!r}"
        )
    if rotating and lock_ttl < login_timeout:
        raise InvalidInputError(
            f"lock_ttl ({lock_ttl:g}s) is shorter than the login timeout ({login_timeout:g}s): "
            "a refresh-token refresh could outlast the refresh lock, and under rotation a "
            f"second refresh with the same token revokes the grant. Use lock_ttl >= "
            f"{login_timeout:g}"
        )


class _RefreshInFlight(Exception):
    """Another worker's refresh is younger than the pending window: wait, do not send."""

    def __init__(self, since: datetime) -> None:
        super().__init__(since.isoformat())
        self.since = since


class SessionManager:
    """Gives every request a valid session, sharing one login across processes.

    ``auth``
        builds and parses the login (:class:`~sfbulk_sdk.auth.Authenticator`).
    ``store``
        where the session is shared; default a private memory store (this
        process only). Pass a Redis, MongoDB or file store to share it between
        processes.
    ``send``
        sends the login request; the clients pass their own HTTP client's.
        Needed whenever the authenticator's login is an HTTP request.
    ``key_prefix``
        the store key is ``key_prefix + auth.fingerprint``.
    ``clock``
        the current time (aware UTC); inject one in tests.
    ``lock_ttl`` / ``lock_wait``
        the refresh lock expires after ``lock_ttl`` seconds even if its holder
        died; a waiter gives up after ``lock_wait`` seconds with
        :class:`~sfbulk_sdk.errors.LockTimeoutError`.
    ``login_timeout``
        the longest a login request can take (the clients pass their login
        timeouts' sum). With a refresh-token grant ``lock_ttl`` must be at least
        this. A refresh noted as sent less than ``lock_ttl + login_timeout``
        (``2 * lock_ttl`` when not given) ago may still be answered: others
        wait for it instead of sending the token again.
    ``policy``
        the :class:`~sfbulk_sdk.core.session_rules.SessionPolicy`.

    The manager closes only what it created (its default store): a store
    passed in belongs to the caller.
    """

    def __init__(
        self,
        auth: Authenticator,
        *,
        store: SessionStore | None = None,
        send: SendLogin | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        clock: Clock = utc_now,
        lock_ttl: float = 30.0,
        lock_wait: float = 60.0,
        policy: SessionPolicy | None = None,
        login_timeout: float | None = None,
    ) -> None:
        _check_lock_settings(
            lock_ttl, lock_wait, login_timeout, isinstance(auth, RefreshTokenGrant)
        )
        self._auth = auth
        self._own_store = store is None
        self._store: SessionStore = MemoryStore(clock=clock) if store is None else store
        self._failures: LoginFailureStore | None = (
            self._store if isinstance(self._store, LoginFailureStore) else None
        )
        self._grants: GrantStore | None = (
            self._store if isinstance(self._store, GrantStore) else None
        )
        #: The grant when the store keeps none, or failed to write a refresh's outcome.
        self._local_grant: GrantRecord | None = None
        if isinstance(auth, RefreshTokenGrant) and self._grants is None:
            logger.warning(
                "the session store of %s keeps no refresh-token grants: rotation is safe "
                "within this process only",
                type(self).__name__,
            )
        self._send = send
        self._clock = clock
        self._touching = threading.Lock()
        self._lock_ttl = lock_ttl
        self._lock_wait = lock_wait
        #: How long a refresh noted as sent may still be answered (never sent again meanwhile).
        self._pending_window = lock_ttl + (lock_ttl if login_timeout is None else login_timeout)
        static = None if auth.can_refresh else auth.parse_login_response(None, now=clock())
        self._state = SessionState(
            session_key(auth.fingerprint, prefix=key_prefix), policy or SessionPolicy(), static
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self._state.key!r}, store={self._store!r})"

    @property
    def auth(self) -> Authenticator:
        """The authenticator the manager logs in with."""
        return self._auth

    @property
    def current(self) -> Session | None:
        """The session this process holds now, without any I/O (``None`` before ``get()``)."""
        return self._state.current

    def get(self) -> Session:
        """A fresh session: cached, from the store, or from a single-flight login."""
        state = self._state
        if state.static is not None:
            return state.static_session()
        if self._local_grant is not None and self._grants is not None:
            self._flush_grant()
        now = self._clock()
        session = state.cached(now)
        if session is not None:
            return session
        session = self._read(now)
        if session is not None:
            return session
        self._raise_if_failed()
        deadline = time.monotonic() + self._lock_wait
        in_flight: datetime | None = None
        while True:
            with ExitStack() as held:
                slice_ = max(0.0, min(_LOCK_SLICE, deadline - time.monotonic()))
                try:
                    held.enter_context(self._store.lock(state.key, ttl=self._lock_ttl, wait=slice_))
                except LockTimeoutError:
                    pass
                else:
                    try:
                        return self._refresh_locked()
                    except _RefreshInFlight as exc:
                        in_flight = exc.since
            if in_flight is not None:  # the lock is free, the refresh is not answered yet
                default_sleep(_LOCK_SLICE)
            # Someone else holds the lock (or their refresh is in flight): the
            # session they log in ends the wait, and so does the failure they record.
            session = self._read(self._clock())
            if session is not None:
                return session
            self._raise_if_failed()
            if time.monotonic() >= deadline:
                if in_flight is not None:
                    raise LockTimeoutError(
                        f"a refresh of {state.key!r} sent at {in_flight.isoformat()} by another "
                        f"worker was not answered within {self._lock_wait:g}s; its refresh "
                        "token was not sent again"
                    )
                raise state.lock_timeout(self._lock_wait)

    def _refresh_locked(self) -> Session:
        state = self._state
        session = self._read(self._clock())
        if session is not None:
            return session
        self._raise_if_failed()
        try:
            session = self._login()
        except RefreshTokenRevokedError:
            raise  # the revoked grant record itself stops every worker, for good
        except LoginError as exc:
            if not exc.retryable:  # a server failure is no verdict on the credentials
                self._record_failure(exc)  # before the lock is released
            raise
        now = self._clock()
        ttl = state.stored_ttl(session, now)
        if ttl is None:
            logger.warning("a new session for %s is already expired; not storing it", state.key)
        else:
            self._store.set(state.key, session, ttl)
        self._clear_failure()
        state.logged_in(session, now)
        return session

    def _raise_if_failed(self) -> None:
        """Raise the recorded login failure, if one is active: no login is sent."""
        state = self._state
        if not state.policy.shares_login_failures:
            return
        now = self._clock()
        failure = state.local_failure(now)
        if failure is None and self._failures is not None:
            failure = self._failures.get_failure(state.key)
        if failure is not None and failure.is_active(now):
            logger.debug(
                "not logging in for %s: a login failed with %s at %s (shared until %s)",
                state.key,
                failure.code,
                failure.failed_at.isoformat(),
                failure.expires_at.isoformat(),
            )
            raise failure.error(now)

    def _record_failure(self, error: LoginError) -> None:
        state = self._state
        failure = state.new_failure(error, self._clock())
        if failure is None:
            return
        logger.warning(
            "login for %s refused (%s); no login is sent for it again for %gs",
            state.key,
            failure.code,
            state.policy.login_failure_seconds,
        )
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
        now = self._clock()
        touched = state.touch_candidate(session, now)
        if touched is None or not self._touching.acquire(blocking=False):
            return
        try:
            renewed = self._store.renew(state.key, touched, state.policy.store_ttl(touched, now))
            state.after_touch(touched, renewed, now)
        finally:
            self._touching.release()

    def close(self) -> None:
        """Close the default store if this manager created it."""
        if self._own_store:
            self._store.close()

    def _read(self, now: datetime) -> Session | None:
        state = self._state
        session = self._store.get(state.key)
        if session is None or not state.usable(session, now):
            return None
        state.remember(session, now)
        return session

    def _send_login(self, request: httpx.Request) -> httpx.Response:
        if self._send is None:
            raise SessionError(
                "this session manager has no way to send the login request: pass send= "
                "(the clients pass their own HTTP client's)"
            )
        return self._send(request)

    def _login(self) -> Session:
        state = self._state
        if isinstance(self._auth, RefreshTokenGrant):
            return self._refresh_grant(self._auth)
        request = self._auth.login_request(now=self._clock())
        response = None if request is None else self._send_login(request)
        session = self._auth.parse_login_response(response, now=self._clock())
        logger.info("logged in for %s (session valid %ss idle)", state.key, session.seconds_valid)
        return session

    # ------------------------------------------------------------------ refresh-token grants

    def _read_grant(self) -> GrantRecord | None:
        """The grant to refresh with: the store's, whenever it can be read.

        The copy this process keeps after a failed write is used only when the
        store cannot be read, or while the store still holds the record that copy
        came from (:func:`~sfbulk_sdk.core.grants.supersedes`): it is then written
        back first. An unreadable record is never worked around.
        """
        local = self._local_grant
        if self._grants is None:
            return local
        try:
            stored = self._grants.get_grant(self._state.key)
        except UnreadableGrantError:
            raise
        except SessionStoreError as exc:
            if local is None:
                raise
            logger.warning(
                "could not read the grant of %s from the store (%s); using the copy this "
                "process kept",
                self._state.key,
                exc,
            )
            return local
        if local is None:
            return stored
        if not supersedes(local, stored):
            logger.info("the store holds a newer grant for %s than this process", self._state.key)
            self._local_grant = None
            return stored
        self._write_grant(local)
        logger.info("the grant of %s kept in this process is in the store again", self._state.key)
        return local

    def _write_grant(self, record: GrantRecord, *, outcome: bool = True) -> None:
        """Record the grant in the store (in process when the store keeps none).

        When writing the ``outcome`` of a refresh fails, this process keeps the
        record (a new refresh token may exist nowhere else) and writes it back at
        its next chance; a failed write before a refresh is sent keeps nothing.
        """
        if self._grants is None:
            self._local_grant = record
            return
        try:
            self._grants.set_grant(self._state.key, record)
        except SessionStoreError as exc:
            if outcome:
                self._local_grant = record
                logger.error(
                    "could not write the grant of %s to the store (%s): this process keeps "
                    "it and writes it back at its next use of the store",
                    self._state.key,
                    exc,
                )
            raise
        self._local_grant = None

    def _flush_grant(self) -> None:
        """Write back the grant kept after a failed write, if the lock is free now."""
        try:
            with self._store.lock(self._state.key, ttl=self._lock_ttl, wait=0):
                self._read_grant()
        except (LockTimeoutError, SessionStoreError) as exc:
            logger.debug("the grant of %s is still kept in process only (%s)", self._state.key, exc)

    def _refresh_grant(self, auth: RefreshTokenGrant) -> Session:
        """Spend the grant's current refresh token, rotation-safe (held under the lock).

        The token sent is the store's current one (never one it knows was rotated
        away); the request is noted in the store before it goes out; a new
        refresh token is in the store before the new session is returned (and
        used); a refused token marks the grant revoked for every worker; a reply
        that may have been lost marks it so, and nobody sends the token again.
        """
        state = self._state
        now = self._clock()
        choice = choose_token(self._read_grant(), auth.initial_token, now=now)
        if choice.reset:
            logger.info(
                "refresh token for %s: starting from the token the app was given", state.key
            )
        if choice.unanswered_since is not None:
            if (now - choice.unanswered_since).total_seconds() < self._pending_window:
                raise _RefreshInFlight(choice.unanswered_since)  # it may still be answered
            logger.warning(
                "a refresh for %s sent at %s got no recorded answer (the worker may have "
                "stopped); sending the stored refresh token again",
                state.key,
                choice.unanswered_since.isoformat(),
            )
        record = choice.record.sending(now)
        self._write_grant(record, outcome=False)
        # Once sent, the reply is read and its outcome stored even if the caller is
        # cancelled meanwhile: a rotated token dropped here would be lost for good.
        return finish_unshielded(self._spend(auth, record, choice.unanswered_since))

    def _spend(
        self, auth: RefreshTokenGrant, record: GrantRecord, unanswered_since: datetime | None
    ) -> Session:
        """Send the refresh noted in ``record`` and record its outcome."""
        state = self._state
        try:
            response = self._send_login(auth.refresh_request(record.refresh_token))
            session = self._auth.parse_login_response(response, now=self._clock())
        except InvalidGrantError as exc:
            revoked = record.revoked(exc.error_description, self._clock())
            self._write_grant(revoked)
            logger.error("refresh token for %s refused: the grant is revoked", state.key)
            raise revoked_error(revoked, unanswered_since=unanswered_since) from None
        except SfBulkError as exc:
            if not reply_may_be_lost(exc):  # never sent, or answered: nothing rotated
                self._write_grant(record.answered(self._clock()))
                raise
            lost = record.lost(self._clock())
            self._write_grant(lost)
            logger.error(
                "the reply to the refresh for %s was lost (%s): the refresh token may have "
                "rotated, so it is not sent again",
                state.key,
                type(exc).__name__,
            )
            raise lost_reply_error(lost) from exc
        new_token = session.refresh_token
        if new_token is not None:
            record = record.rotated(new_token, self._clock())
            logger.info("refresh token for %s rotated (%d so far)", state.key, record.rotations)
        else:
            record = record.answered(self._clock())
        self._write_grant(record)  # before the new session is used
        return session.model_copy(update={"refresh_token": None})

"""The session store protocols and the key naming rule.

A store only *persists* sessions so that many processes can share one login;
when a session is fresh, when it must be refreshed and who logs in is decided
by :mod:`sfbulk_sdk.sessions`. Every backend implements the same small
contract (sync :class:`SessionStore`, async :class:`AsyncSessionStore`):

``get(key)``
    The stored session, or ``None``. An expired entry is never returned,
    whether or not the backend has already deleted it. An entry this version
    cannot read (a newer payload version, a missing or renamed field, a
    foreign value) is ``None`` too, with a warning naming the store and the
    reason: it must not fail every worker until it expires, and the next
    login replaces it. ``renew`` and ``compare_and_delete`` do not raise on
    it either, and never match an entry whose session id they cannot tell.
``set(key, session, ttl)``
    Store ``session`` for ``ttl`` seconds (the session manager passes the time
    left until the session's inactivity expiry).
``renew(key, session, ttl)``
    Replace the stored session with ``session`` for ``ttl`` seconds *only if*
    the stored one carries the same session id; ``False`` otherwise. Used to
    write back ``last_used_at`` without resurrecting a session that another
    process has meanwhile invalidated or replaced.
``compare_and_delete(key, session_id)``
    Delete the entry only if it holds ``session_id`` (the id Salesforce just
    rejected); ``True`` when something was deleted.
``lock(key, *, ttl, wait)``
    A context manager holding the single-flight refresh lock of ``key``: owned
    by a random token, released only by its owner, expiring by itself after
    ``ttl`` seconds of real time (so a dead holder blocks nobody for longer;
    never measured with a store's injectable session clock), waited for at
    most ``wait`` seconds before :class:`~sfbulk_sdk.errors.LockTimeoutError`.
    An async lock is released even when its task is cancelled.
``close()``
    Release what the store holds. A client object handed to a store (a
    ``redis.Redis``, a pymongo collection) belongs to the caller and is not
    closed.

Login failures (optional)
-------------------------
A store may also implement :class:`LoginFailureStore` (or
:class:`AsyncLoginFailureStore`): it then keeps the last login Salesforce
refused for the session ``key`` (a :class:`LoginFailure`: fault code,
message and times, no secret) under :func:`login_failure_key` for a short
TTL, so that one wrong password costs one failed login, not one per worker.
A store without these methods keeps working; the session manager then shares
a failure only in its own process.

``get_failure(key)``
    The unexpired failure recorded for the session key ``key``, or ``None``
    (an unreadable record counts as absent, with a warning).
``set_failure(key, failure, ttl)``
    Record ``failure`` for ``ttl`` seconds, replacing any earlier one.
``clear_failure(key)``
    Drop the record (a login succeeded); no error when there is none.

Refresh-token grants (optional)
-------------------------------
A store may also implement :class:`GrantStore` (or :class:`AsyncGrantStore`):
it then keeps the :class:`~sfbulk_sdk.core.grants.GrantRecord` of a
refresh-token login (the current refresh token, a secret, and the digests of
the tokens rotated away) under :func:`grant_key`. Every built-in store does.

``get_grant(key)``
    The grant recorded for the session key ``key``, or ``None`` when there
    is none. A record that is there but cannot be read (damaged, or written by
    a newer version) raises :class:`~sfbulk_sdk.errors.SessionStoreError`
    (:class:`~sfbulk_sdk.core.grants.UnreadableGrantError`, never quoting it):
    counting it as absent would start over from an older refresh token.
``set_grant(key, grant)``
    Replace the record, durably and atomically (a reader sees the old or the
    new one, never half of it). Written only under the refresh lock of
    ``key``, so no compare-and-set. It has **no TTL**: a grant outlives the
    sessions; a lost one makes workers fall back to an older refresh token,
    which under rotation revokes the whole grant.

The stores' clock (:data:`Clock`, default :func:`utc_now`) is
:mod:`sfbulk_sdk.core.clock`'s, re-exported here.

Payloads are JSON, never pickle. Backend failures (an unreachable server, a
closed store, a failed write) are raised as
:class:`~sfbulk_sdk.errors.SessionStoreError`, never swallowed, and no error
message or log line contains a session id.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Protocol, runtime_checkable

from ..core.clock import Clock, utc_now
from ..core.grants import GrantRecord
from ..core.session_rules import LoginFailure
from ..errors import InvalidInputError
from ..models.session import Session

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "AsyncGrantStore",
    "AsyncLoginFailureStore",
    "AsyncSessionStore",
    "Clock",
    "GrantRecord",
    "GrantStore",
    "LoginFailure",
    "LoginFailureStore",
    "SessionStore",
    "grant_key",
    "login_failure_key",
    "session_key",
    "utc_now",
]

#: The prefix of every key the SDK writes (``sfbulk:session:<fingerprint>``).
DEFAULT_KEY_PREFIX = "sfbulk:session:"


def session_key(fingerprint: str, *, prefix: str = DEFAULT_KEY_PREFIX) -> str:
    """The store key of the session opened by an authenticator.

    ``fingerprint`` is :attr:`Authenticator.fingerprint
    <sfbulk_sdk.auth.Authenticator.fingerprint>`: a digest of the login URL
    and the user or client id, the same in every process and free of secrets.
    Processes that log in as the same user against the same host therefore
    share one key, and so one session.
    """
    if not fingerprint or any(ch.isspace() for ch in fingerprint):
        raise InvalidInputError("an authenticator fingerprint must be a non-empty token")
    if any(ch.isspace() for ch in prefix):
        raise InvalidInputError("a session key prefix must not contain whitespace")
    return f"{prefix}{fingerprint}"


def login_failure_key(key: str) -> str:
    """Where the login failure of the session ``key`` is kept: ``<key>:failed``."""
    return f"{key}:failed"


@runtime_checkable
class SessionStore(Protocol):
    """Where sessions are shared between threads and processes (sync)."""

    def get(self, key: str) -> Session | None:
        """The unexpired session stored under ``key``, or ``None``."""
        ...

    def set(self, key: str, session: Session, ttl: float) -> None:
        """Store ``session`` under ``key`` for ``ttl`` (> 0) seconds."""
        ...

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        """Overwrite the entry for ``ttl`` seconds only if it holds the same session id."""
        ...

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        """Delete the entry only if its session id is ``session_id``."""
        ...

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        """The refresh lock of ``key``: token-owned, expiring after ``ttl`` seconds.

        Entering waits at most ``wait`` seconds, then raises
        :class:`~sfbulk_sdk.errors.LockTimeoutError`.
        """
        ...

    def close(self) -> None:
        """Release the store's own resources (never an injected client)."""
        ...


@runtime_checkable
class AsyncSessionStore(Protocol):
    """The async twin of :class:`SessionStore`: same methods, awaited."""

    async def get(self, key: str) -> Session | None:
        """The unexpired session stored under ``key``, or ``None``."""
        ...

    async def set(self, key: str, session: Session, ttl: float) -> None:
        """Store ``session`` under ``key`` for ``ttl`` (> 0) seconds."""
        ...

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        """Overwrite the entry for ``ttl`` seconds only if it holds the same session id."""
        ...

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        """Delete the entry only if its session id is ``session_id``."""
        ...

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        """The refresh lock of ``key``, used as ``async with store.lock(...)``."""
        ...

    async def aclose(self) -> None:
        """Release the store's own resources (never an injected client)."""
        ...


@runtime_checkable
class LoginFailureStore(Protocol):
    """Optional: a sync store that shares failed logins (see the module docstring).

    Every built-in sync store implements it; the session manager checks with
    ``isinstance(store, LoginFailureStore)``.
    """

    def get_failure(self, key: str) -> LoginFailure | None:
        """The unexpired login failure recorded for the session key ``key``, or ``None``."""
        ...

    def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        """Record ``failure`` for the session key ``key`` for ``ttl`` (> 0) seconds."""
        ...

    def clear_failure(self, key: str) -> None:
        """Drop the login failure recorded for ``key`` (none is fine)."""
        ...


@runtime_checkable
class AsyncLoginFailureStore(Protocol):
    """The async twin of :class:`LoginFailureStore`: same methods, awaited."""

    async def get_failure(self, key: str) -> LoginFailure | None:
        """The unexpired login failure recorded for the session key ``key``, or ``None``."""
        ...

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        """Record ``failure`` for the session key ``key`` for ``ttl`` (> 0) seconds."""
        ...

    async def clear_failure(self, key: str) -> None:
        """Drop the login failure recorded for ``key`` (none is fine)."""
        ...


def grant_key(key: str) -> str:
    """Where the refresh-token grant of the session ``key`` is kept: ``<key>:grant``."""
    return f"{key}:grant"


@runtime_checkable
class GrantStore(Protocol):
    """Optional: a sync store that keeps refresh-token grants beside the sessions.

    A :class:`~sfbulk_sdk.core.grants.GrantRecord` holds the current refresh
    token of a :class:`~sfbulk_sdk.auth.RefreshToken` login and the digests of
    the tokens rotated away. It does not expire with the session (a refresh
    token outlives many sessions) and is only written while the session's
    refresh lock is held. Every built-in sync store implements it.
    """

    def get_grant(self, key: str) -> GrantRecord | None:
        """The grant recorded for the session key ``key``, or ``None``."""
        ...

    def set_grant(self, key: str, grant: GrantRecord) -> None:
        """Record ``grant`` for the session key ``key``, replacing any earlier one."""
        ...


@runtime_checkable
class AsyncGrantStore(Protocol):
    """The async twin of :class:`GrantStore`: same methods, awaited."""

    async def get_grant(self, key: str) -> GrantRecord | None:
        """The grant recorded for the session key ``key``, or ``None``."""
        ...

    async def set_grant(self, key: str, grant: GrantRecord) -> None:
        """Record ``grant`` for the session key ``key``, replacing any earlier one."""
        ...

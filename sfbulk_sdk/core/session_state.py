"""What a session manager keeps in process, and the rules that read it (sans-IO).

:class:`SessionState` is the one home of the live session in a process: the
session last read from or written to the store (the in-process cache), the
digest of the last session Salesforce rejected, the failed login kept when the
store cannot share it, and a static session when there is nothing to log in
with. It reads no clock (``now`` is always a parameter) and touches no store:
:mod:`sfbulk_sdk.sessions` does the I/O around it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TypedDict

from ..errors import LockTimeoutError, LoginError, SessionError
from ..models.session import Session
from .clock import Clock
from .session_rules import LoginFailure, SessionPolicy

__all__ = ["SessionOptions", "SessionState", "credential_digest"]


class SessionOptions(TypedDict, total=False):
    """Keyword arguments a client passes on to its session manager."""

    key_prefix: str
    clock: Clock
    lock_ttl: float
    lock_wait: float
    policy: SessionPolicy


STATIC_REJECTED = (
    "the static session id was rejected by Salesforce (expired, logged out or revoked) "
    "and a StaticSession cannot log in again: create the client with a new session id, "
    "or with a login authenticator so that the session can be refreshed"
)


def credential_digest(session_id: str) -> str:
    """SHA-256 of a session id: what comparisons and conditional store writes use.

    The digest travels in query filters, script arguments and memory; the id
    itself only inside the stored document.
    """
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _digest(session: Session) -> str:
    return credential_digest(session.session_id.get_secret_value())


class SessionState:
    """The in-process half of a session manager (assignments are atomic)."""

    def __init__(self, key: str, policy: SessionPolicy, static: Session | None = None) -> None:
        self.key = key
        self.policy = policy
        self.cache: tuple[Session, datetime] | None = None
        self.rejected: str | None = None
        #: The session of a static authenticator (never logged in again).
        self.static = static
        self.static_rejected = False
        #: A failed login kept in process (the store cannot share it).
        self.failure: LoginFailure | None = None

    @property
    def current(self) -> Session | None:
        """The session this process holds now (``None`` before the first ``get()``)."""
        if self.static is not None:
            return self.static
        entry = self.cache
        return entry[0] if entry is not None else None

    def static_session(self) -> Session:
        """The static session, unless Salesforce has rejected it."""
        if self.static is None:
            raise SessionError("no static session")
        if self.static_rejected:
            raise SessionError(STATIC_REJECTED)
        return self.static

    def usable(self, session: Session | None, now: datetime) -> bool:
        """True for a fresh session that was not rejected."""
        return (
            session is not None
            and self.policy.is_fresh(session, now)
            and (self.rejected is None or _digest(session) != self.rejected)
        )

    def cached(self, now: datetime) -> Session | None:
        """The cached session while the cache and the session are both fresh."""
        entry = self.cache
        if entry is None:
            return None
        session, cached_at = entry
        if self.policy.cache_valid(cached_at, now) and self.usable(session, now):
            return session
        return None

    def remember(self, session: Session, now: datetime) -> None:
        """Cache ``session`` (read from or written to the store at ``now``)."""
        self.cache = (session, now)

    def logged_in(self, session: Session, now: datetime) -> None:
        """A login opened ``session``."""
        # A login vouches for its id, even one rejected before (Salesforce may
        # hand out the same id again): never let the guard force a re-login loop.
        self.rejected = None
        self.remember(session, now)

    def reject(self, rejected: Session) -> None:
        """Salesforce refused ``rejected``: never hand it out again."""
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
        if entry is not None:
            held = entry[0]  # the later use of the two wins (the cached one on a tie)
            if held.last_used_at >= session.last_used_at and held.same_credential(session):
                latest = held
        if not self.policy.needs_touch(latest, now):
            return None
        return latest.touched(now)

    def after_touch(self, touched: Session, renewed: bool, now: datetime) -> None:
        """Record the outcome of writing ``touched`` back."""
        if renewed:
            self.remember(touched, now)
            return
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

    def new_failure(self, error: LoginError, now: datetime) -> LoginFailure | None:
        """The record of ``error`` to share, or ``None`` when sharing is off."""
        return self.policy.login_failure(error, now)

    def lock_timeout(self, wait: float) -> LockTimeoutError:
        """The error of a waiter that got neither the lock nor a session."""
        return LockTimeoutError(
            f"the refresh lock of {self.key!r} was not acquired within {wait:g}s "
            "and no other process stored a fresh session meanwhile"
        )

    def stored_ttl(self, session: Session, now: datetime) -> float | None:
        """How long the store keeps a new session, or ``None`` when it is already expired."""
        ttl = self.policy.store_ttl(session, now)
        return ttl if ttl > 0 else None

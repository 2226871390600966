"""The fake org's users and their sessions.

A session id is what SOAP ``login()`` or an OAuth token request hands out; it
stays valid while it is used at least every ``session_timeout`` seconds and is
never shown in a ``repr``. Login attempts are counted per user for the hourly
allowance Salesforce enforces.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, NamedTuple, TypedDict

from ..core.clock import Clock
from ..models.session import UserInfo
from .ids import IdGenerator
from .settings import OrgSettings

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_USERNAME",
    "EXPIRED_PASSWORD",
    "Accounts",
    "CredentialCheck",
    "FakeUser",
    "UserDetails",
]

DEFAULT_USERNAME = "admin@fake-org.example"
DEFAULT_PASSWORD = "fake-password"
DEFAULT_SECURITY_TOKEN = "FAKETOKEN"

#: What a session of a user whose password expired gets for anything but ``setPassword()``.
EXPIRED_PASSWORD = (
    "The users password has expired, you must call SetPassword before attempting any other "
    "API operations"
)

_SESSION_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"


@dataclass
class FakeUser:
    """A user who can log in to the fake org.

    The password and security token never show in ``repr``. A client logs in
    with ``password + security_token`` (or just the password when the token is
    empty, as from a trusted network). With ``password_expired`` the login
    succeeds and reports ``passwordExpired``, but the session it returns is
    refused by every other call, as Salesforce only allows ``setPassword()``.
    """

    username: str
    password: str = field(repr=False)
    security_token: str = field(default="", repr=False)
    full_name: str = "Fake User"
    email: str | None = None
    language: str = "en_US"
    locale: str = "en_US"
    time_zone: str = "America/Los_Angeles"
    password_expired: bool = False
    user_id: str = field(default="", init=False)
    profile_id: str = field(default="", init=False)

    def __post_init__(self) -> None:
        if self.email is None:
            self.email = self.username if "@" in self.username else f"{self.username}@example.com"


class UserDetails(TypedDict, total=False):
    """The optional details of a new :class:`FakeUser` (``FakeOrg.add_user(..., **details)``)."""

    full_name: str
    email: str | None
    language: str
    locale: str
    time_zone: str
    password_expired: bool


class CredentialCheck(NamedTuple):
    """What :meth:`Accounts.check_credentials` found: the user, or why the password failed.

    ``problem`` is ``None`` when the credentials are right, ``"INVALID_LOGIN"``
    for an unknown user or a wrong password, and ``"LOGIN_MUST_USE_SECURITY_TOKEN"``
    for the bare password of a user who has a security token.
    """

    user: FakeUser | None
    problem: Literal["INVALID_LOGIN", "LOGIN_MUST_USE_SECURITY_TOKEN"] | None


class _Session:
    __slots__ = ("last_used", "user")

    def __init__(self, user: FakeUser, last_used: datetime) -> None:
        self.user = user
        self.last_used = last_used

    def __repr__(self) -> str:
        return f"_Session(user={self.user.username!r})"


class Accounts:
    """Users (looked up case-insensitively) and the sessions opened for them.

    ``user_ids`` is the set the tables check ``OwnerId`` references against;
    every registered user's id is added to it.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        settings: OrgSettings,
        org_id: str,
        lock: threading.RLock,
        user_ids: set[str],
    ) -> None:
        self._clock = clock
        self._settings = settings
        self._org_id = org_id
        self._lock = lock
        self._user_ids = user_ids
        self._user_gen = IdGenerator("005")
        self._profile_gen = IdGenerator("00e")
        self._users: dict[str, FakeUser] = {}
        self._sessions: dict[str, _Session] = {}
        self._login_times: dict[str, deque[datetime]] = {}

    def __repr__(self) -> str:
        return f"Accounts(users={len(self._users)}, sessions={len(self._sessions)})"

    # -- users -----------------------------------------------------------------

    def register(self, user: FakeUser) -> FakeUser:
        """Give ``user`` its ids and let it log in; a username may exist once."""
        with self._lock:
            key = user.username.lower()
            if key in self._users:
                raise ValueError(f"user {user.username} already exists")
            user.user_id = self._user_gen.next18()
            user.profile_id = self._profile_gen.next18()
            self._users[key] = user
            self._user_ids.add(user.user_id)
            return user

    def register_all(self, users: Iterable[FakeUser]) -> None:
        """Register several users in order."""
        for user in users:
            self.register(user)

    @property
    def users(self) -> list[FakeUser]:
        """Every user, in registration order."""
        with self._lock:
            return list(self._users.values())

    @property
    def default(self) -> FakeUser:
        """The first user."""
        with self._lock:
            return next(iter(self._users.values()))

    def find(self, username: str) -> FakeUser | None:
        """The user called ``username`` (any case), or ``None``."""
        with self._lock:
            return self._users.get(username.lower())

    def user(self, username: str | None) -> FakeUser:
        """The user called ``username``, the default user for ``None``; ``KeyError`` if none."""
        if username is None:
            return self.default
        user = self.find(username)
        if user is None:
            raise KeyError(f"no user {username!r} in the fake org")
        return user

    def user_info(self, user: FakeUser) -> UserInfo:
        """The ``GetUserInfoResult`` of a user."""
        return UserInfo(
            accessibility_mode=False,
            chatter_external=False,
            currency_symbol="$",
            org_attachment_file_size_limit=5242880,
            org_default_currency_iso_code="USD",
            org_default_currency_locale="en_US",
            org_disallow_html_attachments=False,
            org_has_person_accounts=False,
            organization_id=self._org_id,
            organization_multi_currency=False,
            organization_name=self._settings.organization_name,
            profile_id=user.profile_id,
            role_id=None,
            session_seconds_valid=self._settings.session_timeout,
            user_default_currency_iso_code=None,
            user_email=user.email,
            user_full_name=user.full_name,
            user_id=user.user_id,
            user_language=user.language,
            user_locale=user.locale,
            user_name=user.username,
            user_time_zone=user.time_zone,
            user_type="Standard",
            user_ui_skin="Theme3",
        )

    def check_credentials(self, username: str, password: str) -> CredentialCheck:
        """Check ``password`` (the password, with the security token appended) for a user.

        The one check every login path uses: SOAP ``login()`` and the OAuth
        username-password flow. The password alone is accepted only from a user
        without a security token (as from a trusted network).
        """
        user = self.find(username)
        if user is None or password not in (user.password + user.security_token, user.password):
            return CredentialCheck(None, "INVALID_LOGIN")
        if user.security_token and password == user.password:
            return CredentialCheck(user, "LOGIN_MUST_USE_SECURITY_TOKEN")
        return CredentialCheck(user, None)

    def check_login_rate(self, user: FakeUser) -> bool:
        """Record a login attempt; False when the user exceeded the hourly allowance."""
        with self._lock:
            now = self._clock()
            times = self._login_times.setdefault(user.username.lower(), deque())
            while times and now - times[0] >= timedelta(hours=1):
                times.popleft()
            if len(times) >= self._settings.max_logins_per_hour:
                return False
            times.append(now)
            return True

    # -- sessions --------------------------------------------------------------

    def new_session(self, user: FakeUser) -> str:
        """Open a session for ``user`` and return its id."""
        token = "".join(secrets.choice(_SESSION_ALPHABET) for _ in range(96))
        session_id = f"{self._org_id[:15]}!AQ{token}"
        with self._lock:
            self._sessions[session_id] = _Session(user, self._clock())
        return session_id

    def issue_session(self, username: str | None = None) -> str:
        """Open a session for a user (default: the first) without a login."""
        with self._lock:
            return self.new_session(self.user(username))

    def authenticate(self, session_id: str | None) -> FakeUser | None:
        """The user a live session belongs to (renewing it), or ``None``."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            now = self._clock()
            if now - session.last_used > timedelta(seconds=self._settings.session_timeout):
                del self._sessions[session_id]
                return None
            session.last_used = now
            return session.user

    def session_expiry(self, session_id: str) -> tuple[FakeUser, datetime] | None:
        """A live session's user and when it expires unless used, without using it."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            expires = session.last_used + timedelta(seconds=self._settings.session_timeout)
            return (session.user, expires) if self._clock() <= expires else None

    def end_session(self, session_id: str) -> bool:
        """Invalidate one session (SOAP ``logout()``)."""
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def expire_sessions(self) -> int:
        """Invalidate every session; returns how many there were."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    @property
    def active_sessions(self) -> int:
        """Sessions that have not expired."""
        with self._lock:
            limit = timedelta(seconds=self._settings.session_timeout)
            now = self._clock()
            return sum(1 for s in self._sessions.values() if now - s.last_used <= limit)

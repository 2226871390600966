"""Session freshness rules (sans-IO): when a session is fresh, when its use is
written back, how long a store keeps it, and how long a failed login is
shared. Used by :mod:`sfbulk_sdk.sessions`.

Salesforce expires a session after ``sessionSecondsValid`` seconds of
inactivity (7200 by default) and every API call restarts that timer, so
freshness is measured from ``last_used_at``, never from ``issued_at``.

A login Salesforce refused (:class:`~sfbulk_sdk.errors.LoginError`) is kept
as a :class:`LoginFailure` for ``SessionPolicy.login_failure_seconds``, so
that the other workers of that user get the same error without logging in
themselves: a handful of invalid logins locks the user out
(``PASSWORD_LOCKOUT``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..errors import InvalidInputError, LoginError, login_error_class
from ..models.base import JsonValue
from ..models.session import Session

__all__ = ["LoginFailure", "SessionPolicy"]

#: The longest fault code and message kept in a :class:`LoginFailure`.
MAX_FAILURE_CODE = 100
MAX_FAILURE_MESSAGE = 1000


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.utcoffset() is None else moment


def _shown(moment: datetime) -> str:
    return _utc(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LoginFailure:
    """A login Salesforce refused, as shared between workers (no secret in it).

    ``code`` is the fault code (``INVALID_LOGIN``, ``PASSWORD_LOCKOUT``, ...),
    ``message`` Salesforce's text (:class:`~sfbulk_sdk.errors.LoginError`
    already holds no password or token), ``failed_at`` when the login failed
    and ``expires_at`` when the next login may be tried, ``status_code`` the
    HTTP status of the refusal.
    """

    code: str
    message: str
    failed_at: datetime
    expires_at: datetime
    status_code: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise InvalidInputError("a login failure needs a fault code")
        if not isinstance(self.message, str):
            raise InvalidInputError("a login failure message must be a string")
        for name in ("failed_at", "expires_at"):
            if not isinstance(getattr(self, name), datetime):
                raise InvalidInputError(f"LoginFailure.{name} must be a datetime")
            object.__setattr__(self, name, _utc(getattr(self, name)))
        status = self.status_code
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise InvalidInputError("LoginFailure.status_code must be an int or None")
        object.__setattr__(self, "code", self.code[:MAX_FAILURE_CODE])
        object.__setattr__(self, "message", self.message[:MAX_FAILURE_MESSAGE])

    @classmethod
    def from_error(cls, error: LoginError, *, now: datetime, seconds: float) -> LoginFailure:
        """The failure ``error`` records at ``now``, blocking logins for ``seconds``."""
        return cls(
            code=error.code,
            message=error.message,
            failed_at=now,
            expires_at=now + timedelta(seconds=seconds),
            status_code=error.status_code,
        )

    def is_active(self, now: datetime) -> bool:
        """True while no login should be sent (until ``expires_at``)."""
        return now < self.expires_at

    def seconds_left(self, now: datetime) -> float:
        """Seconds until the next login may be tried (0 once expired)."""
        return max(0.0, (self.expires_at - now).total_seconds())

    def error(self, now: datetime) -> LoginError:
        """The error a worker raises instead of logging in while this failure is active.

        Same class and code as the original (:class:`LoginRateExceededError`
        for ``LOGIN_RATE_EXCEEDED``, the OAuth classes for OAuth codes); the
        message says the failure is shared and when a login will be tried again.
        """
        cls = login_error_class(self.code)
        note = (
            f"a recent login failure shared from another worker (failed at "
            f"{_shown(self.failed_at)}); no login is sent until {_shown(self.expires_at)}, "
            f"in {math.ceil(self.seconds_left(now))}s"
        )
        message = f"{self.message} [{note}]" if self.message else f"[{note}]"
        return cls(self.code, message, status_code=self.status_code)

    def to_store_dict(self) -> dict[str, JsonValue]:
        """A JSON-ready dict (datetimes as ISO 8601 text) for session stores."""
        return {
            "code": self.code,
            "message": self.message,
            "failed_at": self.failed_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "status_code": self.status_code,
        }

    @classmethod
    def from_store_dict(cls, data: object) -> LoginFailure:
        """Rebuild a failure written by :meth:`to_store_dict`.

        Raises :class:`~sfbulk_sdk.errors.InvalidInputError` naming what is
        wrong (never quoting a stored value).
        """
        if not isinstance(data, dict):
            raise InvalidInputError("the stored login failure is not a JSON object")
        code, message = data.get("code"), data.get("message")
        if not isinstance(code, str) or not isinstance(message, str):
            raise InvalidInputError("the stored login failure has no code or message")
        moments: list[datetime] = []
        for name in ("failed_at", "expires_at"):
            value = data.get(name)
            if isinstance(value, datetime):  # a document store may hand back dates
                moments.append(value)
                continue
            if not isinstance(value, str):
                raise InvalidInputError(f"the stored login failure has no {name}")
            try:
                moments.append(datetime.fromisoformat(value))
            except ValueError:
                raise InvalidInputError(f"the stored login failure has an invalid {name}") from None
        status = data.get("status_code")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise InvalidInputError("the stored login failure has an invalid status_code")
        return cls(code, message, moments[0], moments[1], status)


@dataclass(frozen=True)
class SessionPolicy:
    """When a session is fresh and when its use is written back (pure, no I/O).

    Salesforce ends a session after ``seconds_valid`` seconds without a call
    (``sessionSecondsValid``, 7200 by default), and every call restarts that
    timer. The stored ``last_used_at`` lags the real last call by at most one
    touch interval, so the computed expiry is conservative.

    ``margin_seconds`` / ``margin_fraction``
        A session within ``min(margin_seconds, margin_fraction * seconds_valid)``
        of its expiry is not fresh any more and is refreshed before use
        (5 minutes, or 10 % of a short timeout).
    ``touch_seconds`` / ``touch_fraction``
        ``last_used_at`` is written back at most once per
        ``min(touch_seconds, touch_fraction * seconds_valid)`` (60 s, or 10 %).
        The interval never exceeds the margin with the defaults.
    ``cache_seconds``
        How long a manager reuses the session it last read or wrote before it
        reads the store again (0 reads the store on every ``get()``).
    ``login_failure_seconds``
        How long a login Salesforce refused (``INVALID_LOGIN``,
        ``PASSWORD_LOCKOUT``, ...) is shared: for that long no worker of the
        same user sends another login, each raises the recorded error instead
        (60 s; 0 turns sharing off, so every worker tries its own login).
    """

    margin_seconds: float = 300.0
    margin_fraction: float = 0.1
    touch_seconds: float = 60.0
    touch_fraction: float = 0.1
    cache_seconds: float = 5.0
    login_failure_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in ("margin_seconds", "touch_seconds", "cache_seconds", "login_failure_seconds"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InvalidInputError(f"SessionPolicy.{name} must be >= 0, not {value!r}")
        for name in ("margin_fraction", "touch_fraction"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value < 1:
                raise InvalidInputError(f"SessionPolicy.{name} must be in [0, 1), not {value!r}")

    def margin(self, session: Session) -> timedelta:
        """How long before its expiry a session stops counting as fresh."""
        seconds = min(self.margin_seconds, self.margin_fraction * session.seconds_valid)
        return timedelta(seconds=seconds)

    def touch_interval(self, session: Session) -> timedelta:
        """The least time between two write-backs of ``last_used_at``."""
        seconds = min(self.touch_seconds, self.touch_fraction * session.seconds_valid)
        return timedelta(seconds=seconds)

    def is_expired(self, session: Session, now: datetime) -> bool:
        """True once the inactivity timeout has passed."""
        return now >= session.expires_at

    def is_fresh(self, session: Session, now: datetime) -> bool:
        """True while the session may be used without refreshing it first."""
        return now < session.expires_at - self.margin(session)

    def needs_touch(self, session: Session, now: datetime) -> bool:
        """True when ``last_used_at`` is old enough to be worth writing back."""
        return now - session.last_used_at >= self.touch_interval(session)

    def store_ttl(self, session: Session, now: datetime) -> float:
        """Seconds a store should keep ``session`` (its remaining lifetime; may be <= 0)."""
        return (session.expires_at - now).total_seconds()

    def cache_valid(self, cached_at: datetime, now: datetime) -> bool:
        """True while a session cached at ``cached_at`` may be reused without a store read."""
        age = (now - cached_at).total_seconds()
        return 0 <= age < self.cache_seconds

    @property
    def shares_login_failures(self) -> bool:
        """True when a failed login is shared (``login_failure_seconds > 0``)."""
        return self.login_failure_seconds > 0

    def login_failure(self, error: LoginError, now: datetime) -> LoginFailure | None:
        """The record of a login refused at ``now``, or ``None`` when sharing is off."""
        if not self.shares_login_failures:
            return None
        return LoginFailure.from_error(error, now=now, seconds=self.login_failure_seconds)

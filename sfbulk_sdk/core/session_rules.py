"""Session freshness rules (sans-IO): when a session is fresh, when its use is
written back, how long a store keeps it. Used by :mod:`sfbulk_sdk.sessions`.

Salesforce expires a session after ``sessionSecondsValid`` seconds of
inactivity (7200 by default) and every API call restarts that timer, so
freshness is measured from ``last_used_at``, never from ``issued_at``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import InvalidInputError
from ..models.session import Session

__all__ = ["SessionPolicy"]


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
    """

    margin_seconds: float = 300.0
    margin_fraction: float = 0.1
    touch_seconds: float = 60.0
    touch_fraction: float = 0.1
    cache_seconds: float = 5.0

    def __post_init__(self) -> None:
        for name in ("margin_seconds", "touch_seconds", "cache_seconds"):
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

"""Clocks for the fake org: the wall clock, and a manual clock tests move by hand.

Everything time-dependent in the fake org (batch progress, session expiry, the
24-hour job limit, created dates) reads ``clock.now()``; nothing sleeps. A test
that wants to watch a batch go ``Queued -> InProgress -> Completed`` gives the
org a :class:`ManualClock` and calls :meth:`ManualClock.advance`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` returning an aware UTC :class:`~datetime.datetime`."""

    def now(self) -> datetime:
        """The current time (timezone-aware, UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to: deterministic tests without sleeping.

    >>> clock = ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> clock.advance(90)
    >>> clock.now().isoformat()
    '2024-01-01T00:01:30+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The clock's current time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Move the clock to ``when`` (not earlier than now)."""
        if when.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware times")
        when = when.astimezone(timezone.utc)
        with self._lock:
            if when < self._now:
                raise ValueError("a clock cannot go backwards")
            self._now = when

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()})"

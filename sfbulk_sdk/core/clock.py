"""Time, as every part of the SDK sees it: one clock shape and the seams that wait.

* A :data:`Clock` is a callable returning the current time as an aware UTC
  :class:`~datetime.datetime`. Session stores, the session manager and the fake
  org all take one; :func:`utc_now` is the default.
* :data:`Monotonic` returns seconds of a clock that never goes back; deadlines
  (polling, lock waits) are measured with it.
* :data:`Sleep` / :data:`AsyncSleep` wait; the clients take one as a
  constructor argument, so that tests never wait for real.

:class:`ManualClock` is all of these at once for tests: a clock that moves only
when told to (``advance``) or when something sleeps on it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import TypeAlias

__all__ = ["AsyncSleep", "Clock", "ManualClock", "Monotonic", "Sleep", "utc_now"]

#: The current time, timezone-aware, in UTC.
Clock: TypeAlias = Callable[[], datetime]
#: Seconds on a clock that never goes backwards (:func:`time.monotonic`).
Monotonic: TypeAlias = Callable[[], float]
#: Wait ``seconds`` (:func:`time.sleep`).
Sleep: TypeAlias = Callable[[float], None]
#: Wait ``seconds`` without blocking the event loop (:func:`anyio.sleep`).
AsyncSleep: TypeAlias = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    """The current time as an aware UTC datetime (the default :data:`Clock`)."""
    return datetime.now(timezone.utc)


_DEFAULT_START = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class ManualClock:
    """A clock that moves only when told to: deterministic tests without waiting.

    Call it for the current time (it is a :data:`Clock`); :meth:`monotonic`,
    :meth:`sleep` and :meth:`asleep` make it the time source and the sleep seam
    of a client too, so that a client polling a fake org on the same clock
    moves the org's time by exactly what it waits::

        clock = ManualClock()
        org = FakeOrg(clock=clock, processing_time=30)
        bulk = Bulk(..., sleep=clock.sleep, monotonic=clock.monotonic)

    >>> clock = ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> clock.advance(90)
    >>> clock().isoformat()
    '2024-01-01T00:01:30+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or _DEFAULT_START
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._start = start.astimezone(timezone.utc)
        self._now = self._start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        """The clock's current time."""
        with self._lock:
            return self._now

    def now(self) -> datetime:
        """The clock's current time (the same as calling the clock)."""
        return self()

    def monotonic(self) -> float:
        """Seconds since the clock was created, as :func:`time.monotonic` counts them."""
        with self._lock:
            return (self._now - self._start).total_seconds()

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

    def sleep(self, seconds: float) -> None:
        """A :data:`Sleep` that returns at once, having moved the clock by ``seconds``."""
        self.advance(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        """An :data:`AsyncSleep` that returns at once, having moved the clock by ``seconds``."""
        self.advance(max(0.0, seconds))

    def __repr__(self) -> str:
        return f"ManualClock({self().isoformat()})"

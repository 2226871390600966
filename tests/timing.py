"""Time seams for tests: waits that never wait.

``FakeTime`` gives a client a sleep that returns at once, records the wait and
moves a virtual monotonic clock by it, so that polling deadlines and retry
backoffs are exercised exactly, in no time::

    time = FakeTime()
    bulk = Bulk(..., **time.sync())          # sleep=time.sleep, monotonic=time.monotonic
    abulk = AsyncBulk(..., **time.async_())  # sleep=time.asleep
    assert time.slept == [1.0, 1.5, 2.25]

``on_sleep`` is called with every wait (``org.advance`` moves a fake org's
manual clock with the client's waits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from sfbulk_sdk.core.clock import AsyncSleep, Monotonic, Sleep


class SyncSeams(TypedDict):
    sleep: Sleep
    monotonic: Monotonic


class AsyncSeams(TypedDict):
    sleep: AsyncSleep
    monotonic: Monotonic


class FakeTime:
    """A virtual monotonic clock that moves only when a client sleeps on it."""

    def __init__(self, on_sleep: Callable[[float], object] | None = None) -> None:
        self.slept: list[float] = []
        self.now = 0.0
        self._on_sleep = on_sleep

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self._on_sleep is not None:
            self._on_sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def monotonic(self) -> float:
        return self.now

    def sync(self) -> SyncSeams:
        return {"sleep": self.sleep, "monotonic": self.monotonic}

    def async_(self) -> AsyncSeams:
        return {"sleep": self.asleep, "monotonic": self.monotonic}

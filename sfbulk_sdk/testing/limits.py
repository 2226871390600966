"""Rolling allowances of the fake org: how many of something it may do in a time window.

Salesforce counts several daily allocations over a rolling 24 hours (spec §5.1,
§9): batches (Bulk 1.0 batches and Bulk 2.0 ingest internal batches share one
allocation), Bulk 2.0 query jobs, and REST API requests. A
:class:`RollingAllowance` keeps the times of what it counted and reads its
limit from the org's settings on every call, so a test may change the setting
on a running org.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime, timedelta

from ..core.clock import Clock

__all__ = ["RollingAllowance"]


class RollingAllowance:
    """Events counted over a rolling window (24 hours unless told otherwise).

    ``limit`` is called for the current limit each time (a setting of the org).
    The caller holds the org's lock.
    """

    def __init__(
        self, clock: Clock, limit: Callable[[], int], *, window: timedelta = timedelta(hours=24)
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._times: list[datetime] = []  # sorted: events may be counted at past times

    def __repr__(self) -> str:
        return f"RollingAllowance(used={self.used}, limit={self.limit})"

    @property
    def limit(self) -> int:
        """The current limit."""
        return self._limit()

    @property
    def used(self) -> int:
        """Events counted within the window ending now."""
        expired = bisect.bisect_right(self._times, self._clock() - self._window)
        if expired:
            del self._times[:expired]
        return len(self._times)

    def left(self) -> int:
        """How many more events the window allows now."""
        return max(0, self.limit - self.used)

    def take(self, count: int = 1, *, at: datetime | None = None) -> None:
        """Count ``count`` events at ``at`` (default: now), whether or not they fit."""
        when = at if at is not None else self._clock()
        times = self._times
        if not times or times[-1] <= when:
            times.extend([when] * count)
        else:
            for _ in range(count):
                bisect.insort(times, when)

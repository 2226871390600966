"""What the Bulk 1.0 and Bulk 2.0 engines share: the org's timing and the guarded run.

A Bulk 1.0 batch and a Bulk 2.0 job both wait the org's ``queue_time``, run
for its ``processing_time`` and are then processed at once, as of that moment
(:class:`Schedule`); the work runs with the cyclic GC paused and a failure
becomes Salesforce's ``Code : detail`` message (:func:`run_guarded`); a query
is read and compiled the same way in both (:func:`compile_soql`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from ..core.clock import Clock
from .formats import BatchFailure
from .query import CompiledQuery, compile_query
from .settings import OrgSettings
from .soql import SoqlError, parse_soql
from .store import Database, gc_paused

__all__ = ["Engine", "Schedule", "compile_soql", "run_guarded"]

_Work = TypeVar("_Work")


class Engine:
    """What both engines hold: the org's tables, clock and settings."""

    def __init__(self, db: Database, clock: Clock, settings: OrgSettings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    def _schedule(self) -> Schedule:
        """The org's timing as of the clock's current time."""
        return Schedule(self._settings, self._clock())


class Schedule:
    """The org's queue and processing times, seen at one moment ``now``."""

    def __init__(self, settings: OrgSettings, now: datetime) -> None:
        self.now = now
        self.queue = timedelta(seconds=settings.queue_time)
        self.work = timedelta(seconds=settings.processing_time)

    def start(self, ready: datetime) -> datetime | None:
        """When work that was ready at ``ready`` starts; ``None`` while it still waits."""
        start = ready + self.queue
        return None if self.now < start else start

    def finish(self, started: datetime) -> datetime | None:
        """When work started at ``started`` is done; ``None`` while it still runs."""
        finish = started + self.work
        return None if self.now < finish else finish

    def sweep(
        self,
        pending: list[_Work],
        *,
        ready: Callable[[_Work], datetime | None],
        started: Callable[[_Work], datetime | None],
        begin: Callable[[_Work, datetime], None],
        run: Callable[[_Work, datetime], None],
    ) -> list[_Work]:
        """Move every pending piece of work along to ``now``; returns those still waiting.

        ``ready`` says since when a piece that has not started may start (``None``:
        not yet), ``started`` when it started; ``begin`` marks it started and
        ``run`` processes it as of the moment it finishes. ``run`` may append to
        ``pending`` (PK chunking): those pieces are swept too.
        """
        waiting: list[_Work] = []
        i = 0
        while i < len(pending):
            work = pending[i]
            i += 1
            start = started(work)
            if start is None:
                since = ready(work)
                start = None if since is None else self.start(since)
                if start is None:
                    waiting.append(work)
                    continue
                begin(work, start)
            finish = self.finish(start)
            if finish is None:
                waiting.append(work)
                continue
            run(work, finish)
        return waiting


def run_guarded(work: Callable[[], None]) -> str | None:
    """Run ``work`` with the GC paused; the failure's state message, or ``None`` if it ran.

    A :class:`BatchFailure` gives its own message; any other exception, a bug
    in the fake, gives ``InternalServerError`` (it must not take the server down).
    """
    try:
        with gc_paused():
            work()
    except BatchFailure as failure:
        return failure.state_message
    except Exception as exc:
        return f"InternalServerError : {type(exc).__name__}"
    return None


def compile_soql(
    soql: str, db: Database, *, include_deleted: bool, now: datetime | None = None
) -> CompiledQuery:
    """Parse and compile a batch's or job's SOQL; a bad query fails it (``InvalidBatch``)."""
    try:
        return compile_query(parse_soql(soql), db, include_deleted=include_deleted, now=now)
    except SoqlError as exc:
        raise BatchFailure(
            f"InvalidBatch : Failed to process query: {exc.code}: {exc.message}"
        ) from None

"""Flows running in the background of another one: asyncio tasks (async) or threads (sync).

A driver performing :class:`~sfbulk_sdk.core.flow.Spawn`, ``Wait`` and ``Join``
keeps one task set per run: :class:`AsyncTaskSet` for the async driver,
:class:`TaskSet` for the sync one (the rename table of ``scripts/unasync.py``
turns the first name into the second in the generated twin). Each spawned job
gets a ticket; ``wait`` tells which tickets are done, ``join`` hands over a
result (or raises the job's error) and ``aclose``/``close`` stops what is still
running when the run ends. Unlike :mod:`sfbulk_sdk._parallel`, jobs keep running
while the flow that spawned them hands records to its caller.

On an event loop other than asyncio (trio through anyio), background tasks
cannot outlive one ``await`` of a structured task group: there a spawned job
starts at the first ``wait`` or ``join`` that needs it, and every job spawned by
then runs side by side until all are done (a window per round, still bounded).
This module is hand-written, not generated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Generic, TypeVar

from ._parallel import gather_async

if TYPE_CHECKING:
    import asyncio

__all__ = ["AsyncTaskSet", "TaskSet"]

J = TypeVar("J")
T = TypeVar("T")

#: Threads a sync task set may use; the flows bound how many jobs run at once.
MAX_THREADS = 32


def _asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or ``None`` on another event loop."""
    import asyncio  # here, not at the top: the sync client never loads the event loop

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class AsyncTaskSet(Generic[J, T]):
    """Jobs run as asyncio tasks beside the flow that spawned them."""

    def __init__(self, run: Callable[[J], Coroutine[object, object, T]]) -> None:
        self._run = run
        self._tasks: dict[int, asyncio.Task[T]] = {}
        self._lazy: dict[int, J] = {}  # not on asyncio: started by the next wait
        self._done: dict[int, tuple[T | None, BaseException | None]] = {}
        self._next = 0

    def spawn(self, job: J) -> int:
        """Start ``job``; its ticket."""
        self._next += 1
        loop = _asyncio_loop()
        if loop is None:
            self._lazy[self._next] = job
        else:
            self._tasks[self._next] = loop.create_task(self._run(job))
        return self._next

    async def _run_lazy(self) -> None:
        tickets, jobs = list(self._lazy), list(self._lazy.values())
        self._lazy.clear()

        async def one(job: J) -> tuple[T | None, BaseException | None]:
            try:
                return await self._run(job), None
            except Exception as exc:  # kept for the job's own join
                return None, exc

        outcomes = await gather_async(one, jobs, max(1, len(jobs)))
        self._done.update(zip(tickets, outcomes, strict=True))

    async def wait(self, tickets: Sequence[int], block: bool) -> list[int]:
        """The finished ones among ``tickets``; with ``block``, at least one."""
        if block and self._lazy and not any(t in self._done for t in tickets):
            await self._run_lazy()
        running = [self._tasks[t] for t in tickets if t in self._tasks]
        if block and running and not any(t in self._done or self._tasks[t].done() for t in tickets):
            import asyncio

            await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        return [
            t for t in tickets if t in self._done or (t in self._tasks and self._tasks[t].done())
        ]

    async def join(self, ticket: int) -> T:
        """The job's result (waiting for it), or its error raised."""
        if ticket in self._lazy:
            await self._run_lazy()
        if ticket in self._done:
            value, error = self._done.pop(ticket)
            if error is not None:
                raise error
            return value  # type: ignore[return-value]
        return await self._tasks.pop(ticket)

    async def aclose(self) -> None:
        """Stop every job still running and wait until they have let go of their responses."""
        self._lazy.clear()
        self._done.clear()
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            import asyncio

            await asyncio.gather(*tasks, return_exceptions=True)


class TaskSet(Generic[J, T]):
    """Jobs run in worker threads beside the flow that spawned them."""

    def __init__(self, run: Callable[[J], T]) -> None:
        self._run = run
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[int, Future[T]] = {}
        self._stop = threading.Event()
        self._next = 0

    def _guarded(self, job: J) -> T:
        if self._stop.is_set():
            raise RuntimeError("the run ended before this job started")
        return self._run(job)

    def spawn(self, job: J) -> int:
        """Start ``job`` in a worker thread; its ticket."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="sfbulk-page")
        self._next += 1
        self._futures[self._next] = self._pool.submit(self._guarded, job)
        return self._next

    def wait(self, tickets: Sequence[int], block: bool) -> list[int]:
        """The finished ones among ``tickets``; with ``block``, at least one."""
        futures = [self._futures[t] for t in tickets]
        if block and futures and not any(future.done() for future in futures):
            wait(futures, return_when=FIRST_COMPLETED)
        return [t for t in tickets if self._futures[t].done()]

    def join(self, ticket: int) -> T:
        """The job's result (waiting for it), or its error raised."""
        return self._futures.pop(ticket).result()

    def close(self) -> None:
        """Drop the jobs not started and wait for the running ones to end."""
        self._stop.set()
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

"""Running several flows side by side, bounded: tasks (async client) or threads (sync).

The two drivers differ here and nowhere else in how they overlap requests:
:func:`gather_async` runs each job in an anyio task, :func:`gather_sync` in a
worker thread (httpx clients and the session manager are thread-safe). Both
start at most ``limit`` jobs at a time, return the results in the order of the
jobs, and raise the first SDK error a job raised after stopping the others.
This module is hand-written, not generated: the async driver calls
``gather_async`` and the rename table turns that into ``gather_sync`` in the
sync twin.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar, cast

import anyio

from .errors import InvalidInputError

__all__ = ["gather_async", "gather_sync"]

J = TypeVar("J")
T = TypeVar("T")


def _check(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"concurrency must be a positive integer, not {limit!r}")
    return limit


async def gather_async(run: Callable[[J], Awaitable[T]], jobs: Sequence[J], limit: int) -> list[T]:
    """``[await run(job) for job in jobs]``, at most ``limit`` at a time, in order."""
    limiter = anyio.CapacityLimiter(_check(limit))
    results: list[T | None] = [None] * len(jobs)
    failures: list[BaseException] = []

    async def one(index: int, job: J) -> None:
        async with limiter:
            if failures:
                return
            try:
                results[index] = await run(job)
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, job in enumerate(jobs):
            group.start_soon(one, index, job)
    if failures:
        raise failures[0]
    return cast("list[T]", results)


def gather_sync(run: Callable[[J], T], jobs: Sequence[J], limit: int) -> list[T]:
    """``[run(job) for job in jobs]`` in at most ``limit`` threads, in order."""
    width = min(_check(limit), max(1, len(jobs)))
    if width == 1:
        return [run(job) for job in jobs]
    stop = threading.Event()

    def one(job: J) -> T | None:
        return None if stop.is_set() else run(job)

    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="sfbulk") as pool:
        futures = [pool.submit(one, job) for job in jobs]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future.done() and not future.cancelled() else None
            if error is not None:
                stop.set()
                for other in futures:
                    other.cancel()
                raise error
    return [cast("T", future.result()) for future in futures]

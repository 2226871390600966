"""The record streams that ``query`` returns: records one at a time, read a chunk at a time.

A query's records are decoded a network chunk at a time, into lists; a stream
hands them out one by one. :class:`RecordStream` (``Bulk.query``) gives a
``for`` loop the chained lists themselves, so taking the next record runs no
Python code (about 20-40 % less than a generator re-yielding each record:
0.015-0.04 s of CPU per million records); :class:`AsyncRecordStream`
(``AsyncBulk.query``) gives ``async for`` one async generator. Both are closed
when left (``with`` / ``async with``, ``close()`` / ``aclose()``) or dropped:
closing ends the query's downloads at once.
"""

from __future__ import annotations

import itertools
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Generator,
    Iterator,
    Sequence,
)
from types import TracebackType
from typing import TypeVar

from typing_extensions import Self

__all__ = ["AsyncRecordStream", "RecordStream"]

T = TypeVar("T", covariant=True)


class RecordStream(Iterator[T]):
    """Every record of a query, in order; iterate it once.

    ``for record in stream`` and ``next(stream)`` take from the same place, so
    they can be mixed. ``close()`` (or leaving a ``with`` block) stops the
    downloads; records not yet taken are not read.
    """

    __slots__ = ("_chunks", "_records")

    def __init__(self, chunks: Generator[Sequence[T], None, None]) -> None:
        self._chunks = chunks
        self._records: Iterator[T] = itertools.chain.from_iterable(chunks)

    def __iter__(self) -> Iterator[T]:
        # The chain itself: a for loop then takes each record at C speed.
        return self._records

    def __next__(self) -> T:
        return next(self._records)

    def close(self) -> None:
        """Stop reading: the query's open download, if any, is closed, and the records
        decoded but not taken are dropped."""
        self._chunks.close()
        self._records = iter(())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncRecordStream(AsyncIterator[T]):
    """Every record of a query, in order, for ``async for``; iterate it once.

    ``aclose()`` (or leaving an ``async with`` block) stops the downloads.
    """

    __slots__ = ("_records",)

    def __init__(self, chunks: AsyncGenerator[Sequence[T], None]) -> None:
        self._records = _flattened(chunks)

    def __aiter__(self) -> AsyncIterator[T]:
        # The flattening generator itself: its __anext__ is C code, a method here is not.
        return self._records

    def __anext__(self) -> Awaitable[T]:
        return self._records.__anext__()

    async def aclose(self) -> None:
        """Stop reading: the query's open download, if any, is closed."""
        await self._records.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


async def _flattened(chunks: AsyncGenerator[Sequence[T], None]) -> AsyncGenerator[T, None]:
    try:
        async for chunk in chunks:
            for record in chunk:
                yield record
    finally:
        await chunks.aclose()

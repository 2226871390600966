"""Where the encoder's rows come from: mappings and sequences, a block at a time (sans-IO).

:func:`rows_of_mappings` turns mappings into rows in field order, refusing a
mapping that holds a field the load does not; :func:`rows_of_sequences`
checks rows given as sequences. :class:`BlockRows` hands rows to
:class:`~sfbulk_sdk.core.encode.RecordEncoder` a list at a time.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import InvalidInputError

__all__ = ["BLOCK", "BlockRows", "Row", "rows_of_mappings", "rows_of_sequences"]

#: Rows written (and checked) at a time.
BLOCK = 1000

Row = Sequence[object]


def rows_of_mappings(
    records: Iterable[Mapping[str, object]], fields: Sequence[str], *, strict: bool = True
) -> Iterator[Row]:
    """Each mapping as a row in ``fields`` order; a missing field is ``None``.

    When ``strict``, a mapping holding a field that is not in ``fields`` is
    refused, naming it (it would be lost); else such keys are left out.
    Mappings are taken a block at a time: a block whose every mapping has
    exactly the fields costs two C-level passes (``itemgetter`` and ``len``);
    any other block is looked at mapping by mapping. The encoder takes the
    rows a block at a time too (:class:`BlockRows`).
    """
    return BlockRows(_mapping_blocks(records, fields, strict), exact_width=True)


def _mapping_blocks(
    records: Iterable[Mapping[str, object]], fields: Sequence[str], strict: bool
) -> Iterator[list[Row]]:
    getter: Callable[[Mapping[str, object]], object] = operator.itemgetter(*fields)
    width = len(fields)
    source = iter(records)
    number = 0
    while True:
        block = list(itertools.islice(source, BLOCK))
        if not block:
            return
        try:
            values: list[Row] = list(map(getter, block))  # type: ignore[arg-type]
            exact = not strict or max(map(len, block)) == width
        except (KeyError, TypeError):
            exact = False
        if not exact:
            values = list(_mapping_rows(block, fields, getter, number, strict))
        elif width == 1:
            values = [(value,) for value in values]
        number += len(block)
        yield values


class BlockRows(Iterator[Row]):
    """Rows that come in lists: iterated one by one, or taken ``n`` at a time (:meth:`take`),
    which saves the encoder a step per row."""

    def __init__(self, blocks: Iterator[list[Row]], *, exact_width: bool = False) -> None:
        #: True when every row is known to hold one value a field (rows of mappings).
        self.exact_width = exact_width
        self._blocks = blocks
        self._buffer: list[Row] = []
        self._at = 0

    def take(self, count: int) -> list[Row]:
        """The next ``count`` rows (fewer at the end of the input)."""
        while len(self._buffer) - self._at < count:
            block = next(self._blocks, None)
            if block is None:
                break
            self._buffer = (
                self._buffer[self._at :] + block if self._at < len(self._buffer) else block
            )
            self._at = 0
        taken = self._buffer[self._at : self._at + count]
        self._at += len(taken)
        return taken

    def __next__(self) -> Row:
        taken = self.take(1)
        if not taken:
            raise StopIteration
        return taken[0]


def _mapping_rows(
    block: list[Mapping[str, object]],
    fields: Sequence[str],
    getter: Callable[[Mapping[str, object]], object],
    number: int,
    strict: bool = True,
) -> Iterator[Row]:
    """The rows of ``block`` one mapping at a time, naming the first bad one."""
    single = len(fields) == 1
    width = len(fields)
    known = frozenset(fields)
    for at, record in enumerate(block, number + 1):
        try:
            values = getter(record)
            complete = True
        except KeyError:
            values = tuple(record.get(name) for name in fields)
            complete = False
        except (TypeError, AttributeError):
            raise InvalidInputError(
                f"row {at} is of type {type(record).__name__}, not a mapping of field names "
                "like row 1"
            ) from None
        # With every field present, more keys than fields means unknown ones; with
        # some missing, any unknown key must be looked for.
        unknown = (len(record) > width) if complete else any(n not in known for n in record)
        if strict and unknown:
            extra = sorted(str(name) for name in record if name not in known)
            raise InvalidInputError(f"row {at} has fields the load does not: {extra}")
        yield (values,) if single else values  # type: ignore[misc]


def rows_of_sequences(records: Iterable[Sequence[object]]) -> Iterator[Row]:
    """Rows given as sequences already in field order (checked by the encoder)."""
    for number, record in enumerate(records, 1):
        if isinstance(record, (str, bytes, bytearray)) or not isinstance(record, Sequence):
            raise InvalidInputError(
                f"row {number} is of type {type(record).__name__}, not a sequence of values"
            )
        yield record

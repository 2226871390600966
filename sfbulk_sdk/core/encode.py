"""Records to CSV upload bodies, fast and exact (sans-IO).

A load streams its input once: each record is written by the :mod:`csv`
module straight into the body of the batch (Bulk 1.0) or job (Bulk 2.0) it
belongs to, and the body is cut before the record that would break a limit
(records, characters, bytes of the exact UTF-8 encoding). No record is lost,
repeated or split; nothing but the open body is held.

Values are written the way Salesforce reads them: ``None`` as ``#N/A`` (it
clears the field; an empty string leaves a field unchanged on update),
booleans ``true``/``false``, datetimes in UTC with milliseconds, dates ISO,
numbers without exponent. NaN and infinities, nested containers and bytes are
refused, naming the row and the column, before anything is sent.

The common case costs little: a row of plain strings and integers goes to
the writer as it is (one C-level type check per row); only rows holding other
types go through :func:`format_value` value by value.
"""

from __future__ import annotations

import csv
import io
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from enum import Enum
from typing import Protocol

from ..errors import InvalidInputError

__all__ = [
    "NULL",
    "EncodedBody",
    "RecordEncoder",
    "format_value",
    "rows_of_mappings",
    "rows_of_sequences",
]

#: What Salesforce reads as "set this field to null" in a CSV upload.
NULL = "#N/A"

_PLAIN = frozenset({str, int})


class _CsvWriter(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...


def format_value(value: object, *, null: str = NULL) -> str:
    """One value as Salesforce reads it in a CSV upload (raises ``InvalidInputError``)."""
    if value is None:
        return null
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        number: float = value  # type: ignore[assignment]
        if not math.isfinite(number):
            raise InvalidInputError(f"{number!r} is not a number Salesforce can store")
        text = repr(number)
        return format(Decimal(text), "f") if "e" in text or "E" in text else text
    if isinstance(value, Enum):
        return format_value(value.value, null=null)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInputError(f"{value!r} is not a number Salesforce can store")
        return format(value, "f")
    if isinstance(value, datetime):
        moment = value.astimezone(timezone.utc) if value.tzinfo is not None else value
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        text = value.isoformat(timespec="milliseconds")
        return text if value.tzinfo is not None else text + "Z"
    if isinstance(value, float):
        return format_value(float(value), null=null)
    raise InvalidInputError(
        f"a {type(value).__name__} value cannot be written to a CSV field "
        "(for a parent reference use a 'Parent.ExternalId__c' column)"
    )


@dataclass(frozen=True, slots=True)
class EncodedBody:
    """One upload body: the header and ``rows`` whole records, as UTF-8 CSV.

    ``first_row`` is the 0-based input position of its first record; ``keys``
    the values of the join column, in order, when one was asked for.
    """

    data: bytes
    first_row: int
    rows: int
    keys: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # the data is the caller's: never shown
        return f"EncodedBody(first_row={self.first_row}, rows={self.rows}, bytes={len(self.data)})"


Row = Sequence[object]


class RecordEncoder:
    """Writes rows of values (in ``fields`` order) into bodies within the limits.

    ``key`` names a field whose values are collected per body (the join
    column of a Bulk 2.0 load). Feed rows with :meth:`bodies`.
    """

    def __init__(
        self,
        fields: Sequence[str],
        *,
        max_records: int,
        max_bytes: int,
        max_chars: int,
        delimiter: str = ",",
        line_ending: str = "\n",
        null: str = NULL,
        key: str | None = None,
    ) -> None:
        names = [str(name) for name in fields]
        if not names or any(not name for name in names):
            raise InvalidInputError("a load needs at least one field, and every field a name")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InvalidInputError(f"the fields repeat names: {repeated}")
        self.fields = names
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._max_chars = max_chars
        self._delimiter = delimiter
        self._line_ending = line_ending
        self._null = null
        self._key = None if key is None else self._key_index(key)

    def _key_index(self, key: str) -> int:
        try:
            return self.fields.index(key)
        except ValueError:
            raise InvalidInputError(
                f"the records have no {key!r} field, which this operation needs"
            ) from None

    def _writer(self, buffer: io.StringIO) -> _CsvWriter:
        return csv.writer(buffer, delimiter=self._delimiter, lineterminator=self._line_ending)

    def _header(self) -> str:
        buffer = io.StringIO()
        self._writer(buffer).writerow(self.fields)
        return buffer.getvalue()

    def _format(self, row: Row, number: int) -> list[str]:
        out: list[str] = []
        for name, value in zip(self.fields, row, strict=True):
            try:
                out.append(format_value(value, null=self._null))
            except InvalidInputError as exc:
                raise InvalidInputError(f"row {number + 1}, field {name!r}: {exc}") from None
        return out

    def bodies(self, rows: Iterable[Row], *, start: int = 0) -> Iterator[EncodedBody]:
        """Upload bodies for ``rows`` (each a sequence of values in field order)."""
        header = self._header()
        width = len(self.fields)
        plain = _PLAIN
        key = self._key
        buffer = io.StringIO()
        write = self._writer(buffer).writerow
        buffer.write(header)
        ends: list[int] = []  # where each record of the open body ends (characters)
        keys: list[str] = []
        first = number = start
        for row in rows:
            if len(row) != width:
                raise InvalidInputError(
                    f"row {number + 1} has {len(row)} values for {width} fields"
                )
            if not plain.issuperset(map(type, row)):
                row = self._format(row, number)
            before = buffer.tell()
            if key is not None:
                keys.append(str(row[key]))
            write(row)
            after = buffer.tell()
            if after - before + len(header) > self._max_chars:
                raise self._too_big(number, after - before + len(header))
            if len(ends) >= self._max_records or after > self._max_chars:
                text = buffer.getvalue()
                done_keys = keys[:-1] if key is not None else []
                yield from self._fit(text[:before], len(header), ends, first, done_keys)
                buffer = io.StringIO()
                write = self._writer(buffer).writerow
                buffer.write(header)
                buffer.write(text[before:])
                ends = []
                keys = keys[-1:]
                first = number
                after = buffer.tell()
            ends.append(after)
            number += 1
        if ends:
            yield from self._fit(buffer.getvalue(), len(header), ends, first, keys)

    def _too_big(self, number: int, chars: int) -> InvalidInputError:
        return InvalidInputError(
            f"row {number + 1} does not fit in a batch even on its own: with the header it is "
            f"{chars:,} characters, and a batch holds at most {self._max_chars:,}"
        )

    def _fit(
        self, text: str, header_chars: int, ends: list[int], first: int, keys: list[str]
    ) -> Iterator[EncodedBody]:
        """The body of ``text``, cut at record ends where its UTF-8 bytes pass the limit.

        Only text with many multi-byte characters ever needs the cut: a body
        within the character limit is within the byte limit when it is ASCII.
        """
        data = text.encode("utf-8")
        if len(data) <= self._max_bytes:
            yield EncodedBody(data, first, len(ends), keys)
            return
        header = text[:header_chars]
        header_size = len(header.encode("utf-8"))
        begin, size, start_char = 0, header_size, header_chars
        for index, end in enumerate(ends):
            record = len(text[start_char:end].encode("utf-8"))
            if header_size + record > self._max_bytes:
                raise InvalidInputError(
                    f"row {first + index + 1} does not fit in a batch even on its own: with "
                    f"the header it is {header_size + record:,} bytes, and a batch holds at "
                    f"most {self._max_bytes:,}"
                )
            if size + record > self._max_bytes:
                lo = header_chars if begin == 0 else ends[begin - 1]
                piece = (header + text[lo : ends[index - 1]]).encode("utf-8")
                yield EncodedBody(piece, first + begin, index - begin, keys[begin:index])
                begin, size = index, header_size
            size += record
            start_char = end
        lo = header_chars if begin == 0 else ends[begin - 1]
        piece = (header + text[lo : ends[-1]]).encode("utf-8")
        yield EncodedBody(piece, first + begin, len(ends) - begin, keys[begin:])


# --------------------------------------------------------------------------- row sources


def rows_of_mappings(
    records: Iterable[Mapping[str, object]], fields: Sequence[str]
) -> Iterator[Row]:
    """Each mapping as a row in ``fields`` order; a missing field is ``None``.

    A mapping holding a field that is not in ``fields`` is refused, naming it.
    """
    getter: Callable[[Mapping[str, object]], object] = operator.itemgetter(*fields)
    single = len(fields) == 1
    width = len(fields)
    known = frozenset(fields)
    for number, record in enumerate(records, 1):
        try:
            values = getter(record)
            complete = True
        except KeyError:
            values = tuple(record.get(name) for name in fields)
            complete = False
        except TypeError:
            raise InvalidInputError(
                f"row {number} is a {type(record).__name__}, not a mapping of field names"
            ) from None
        # With every field present, more keys than fields means unknown ones; with
        # some missing, any unknown key must be looked for.
        if (len(record) > width) if complete else any(name not in known for name in record):
            extra = sorted(str(name) for name in record if name not in known)
            raise InvalidInputError(f"row {number} has fields the load does not: {extra}")
        yield (values,) if single else values  # type: ignore[misc]


def rows_of_sequences(records: Iterable[Sequence[object]]) -> Iterator[Row]:
    """Rows given as sequences already in field order (checked by the encoder)."""
    for number, record in enumerate(records, 1):
        if isinstance(record, (str, bytes, bytearray)) or not isinstance(record, Sequence):
            raise InvalidInputError(
                f"row {number} is a {type(record).__name__}, not a sequence of values"
            )
        yield record

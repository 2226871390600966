"""Records (mappings or rows of values) serialised to Bulk API 1.0 CSV batches.

Values are written the way Salesforce reads a CSV upload (see
:func:`format_csv_value`), every field double-quoted; the records are cut into
batches at exactly the batch limits of :mod:`~sfbulk_sdk.core.csvbatch`. Pure:
records in, batches out, lazily, one record at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import TypeAlias

from ..errors import InvalidInputError
from .csvbatch import BATCH_LIMITS, CsvBatch, CsvRecord, Limits, check_limits, pack_records
from .encode import format_value

__all__ = ["CsvRow", "csv_batches_from_records", "format_csv_value"]

#: One record to serialise: field names to values, or a row of values in
#: header order (values as :func:`format_csv_value` takes them).
CsvRow: TypeAlias = Mapping[str, object] | Sequence[object]


def format_csv_value(value: object) -> str:
    """One value as Salesforce reads it in a CSV upload.

    ``None`` is empty (Salesforce leaves the field unchanged; send ``"#N/A"``
    to clear it), booleans are ``true``/``false``, aware datetimes are written
    in UTC as ``2024-01-31T12:00:00.000Z`` (naive ones are taken as UTC),
    dates as ``2024-01-31``, numbers without exponent. NaN and infinities,
    nested mappings and sequences, and bytes are refused with
    :class:`~sfbulk_sdk.errors.InvalidInputError`.
    """
    if isinstance(value, (bytes, bytearray, memoryview, Mapping, list, tuple, set, frozenset)):
        raise InvalidInputError(
            f"a {type(value).__name__} value cannot be written to a CSV field "
            "(for a parent reference use a 'Parent.ExternalId__c' column)"
        )
    if value is None or isinstance(value, _KNOWN):
        return format_value(value, null="")
    return str(value)


#: What :func:`~sfbulk_sdk.core.encode.format_value` writes; anything else is ``str()``.
_KNOWN = (str, int, float, Decimal, datetime, date, time, Enum)


class _RowWriter:
    """Renders one row at a time with every value quoted."""

    def __init__(self, line_terminator: str) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(
            self._buffer, quoting=csv.QUOTE_ALL, lineterminator=line_terminator
        )

    def render(self, values: Sequence[str]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(values)
        return self._buffer.getvalue()


def _is_row(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _header(names: Iterable[object], writer: _RowWriter) -> CsvRecord:
    header = [str(name) for name in names]
    if not header:
        raise InvalidInputError("the CSV header has no field names")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InvalidInputError(f"the CSV header repeats field names: {duplicates}")
    return CsvRecord(writer.render(header), 0, 0, header)


def _serialised(
    records: Iterable[CsvRow],
    fields: Sequence[str] | None,
    line_terminator: str,
) -> Iterator[CsvRecord]:
    writer = _RowWriter(line_terminator)
    header: list[str] | None = None
    if fields is not None:
        first = _header(fields, writer)
        header = first.fields
        yield first
    number = 0
    for record in records:
        if isinstance(record, Mapping):
            if header is None:
                first = _header(record, writer)
                header = first.fields
                yield first
            number += 1
            extra = [name for name in record if name not in header]
            if extra:
                raise InvalidInputError(
                    f"record {number} has fields not in the header: {sorted(map(str, extra))}"
                )
            values: Sequence[object] = [record.get(name) for name in header]
        elif _is_row(record):
            if header is None:
                first = _header(record, writer)
                header = first.fields
                yield first
                continue
            number += 1
            if len(record) != len(header):
                raise InvalidInputError(
                    f"record {number} has {len(record)} values for {len(header)} fields"
                )
            values = record
        else:
            raise InvalidInputError(
                f"records must be mappings or sequences, not {type(record).__name__}"
            )
        rendered: list[str] = []
        for name, value in zip(header, values, strict=True):
            try:
                rendered.append(format_csv_value(value))
            except InvalidInputError as exc:
                raise InvalidInputError(f"record {number}, field {name!r}: {exc}") from None
        yield CsvRecord(writer.render(rendered), number, 0, header)


def csv_batches_from_records(
    records: Iterable[CsvRow],
    *,
    fields: Sequence[str] | None = None,
    limits: Limits = BATCH_LIMITS,
    line_terminator: str = "\n",
) -> Iterator[CsvBatch]:
    """Serialise records to CSV batches lazily, one record at a time.

    ``records`` are mappings (field name to value) or sequences of values.
    The header is ``fields`` when given; otherwise the first mapping's keys,
    or the first sequence itself when the records are sequences. A mapping
    may leave fields out (written empty) but may not add fields the header
    lacks. Every value, and the header, is double-quoted as Salesforce writes
    CSV; values are formatted by :func:`format_csv_value`. Lines end with
    ``line_terminator`` (``\\n``, what Bulk API 2.0 expects by default).
    """
    check_limits(limits)
    if line_terminator not in ("\n", "\r\n"):
        raise InvalidInputError("line_terminator must be '\\n' or '\\r\\n'")
    return pack_records(_serialised(records, fields, line_terminator), limits)

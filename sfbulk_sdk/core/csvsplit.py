"""Cutting CSV input into Bulk API 1.0 batches: streaming, exact, sans-IO.

A Bulk API 1.0 batch holds at most 10,000 records, 10,000,000 bytes of UTF-8
and 10,000,000 characters, the header row included in every batch. This module
cuts any CSV input at exactly those limits:

* it counts **records**, not physical lines: a quoted field may hold line
  breaks, and ``""`` inside quotes is an escaped quote. Record boundaries are
  found by the standard library's CSV parser (strict mode), so a record is cut
  exactly where :func:`csv.reader` would end it;
* each record is re-emitted byte for byte as it was read (its quoting and line
  ending are kept); only the header row is repeated at the top of every batch;
* memory stays bounded by one batch: the input is read lazily, and a record
  that would be longer than a whole batch is refused as soon as that is
  certain, without reading the rest of it;
* a record that cannot fit even in an empty batch raises
  :class:`~sfbulk_sdk.errors.InvalidInputError` naming its record number
  (1-based, header excluded) and line. :func:`split_csv_file` checks the whole
  file first by default, so nothing is produced, and hence nothing sent, for a
  file that cannot be uploaded.

Blank lines between records are skipped (they are not records). A leading
byte-order mark is dropped. Lines end at ``\\n`` (``\\r\\n`` included); a bare
``\\r`` outside quotes is rejected as malformed.

Three entry points produce :class:`CsvBatch` objects:

* :func:`split_csv`: CSV text or bytes, whole or as an iterable of chunks or
  lines (a text file must be opened with ``newline=""`` so that line breaks
  inside quoted fields are kept as they are);
* :func:`split_csv_file`: a file path, read lazily in binary chunks;
* :func:`csv_batches_from_records`: dicts or rows serialised the way
  Salesforce writes CSV (every value quoted, ``None`` as an empty value).

The parser relies on :func:`csv.field_size_limit`, whose default (131,072
characters) is also Salesforce's limit for one field.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, TypeAlias

from ..errors import InvalidInputError

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_CHARS",
    "MAX_BATCH_RECORDS",
    "CsvBatch",
    "CsvSource",
    "CsvSummary",
    "csv_batches_from_records",
    "format_csv_value",
    "iter_csv_file_batches",
    "scan_csv",
    "split_csv",
    "split_csv_file",
]

#: Most records in one Bulk API 1.0 batch.
MAX_BATCH_RECORDS = 10_000
#: Most bytes (UTF-8) in one Bulk API 1.0 batch.
MAX_BATCH_BYTES = 10_000_000
#: Most characters in one Bulk API 1.0 batch.
MAX_BATCH_CHARS = 10_000_000

_FILE_CHUNK = 1 << 20

#: What :func:`split_csv` reads: a whole document, or an iterable of text or
#: bytes pieces (lines or arbitrary chunks; a file object opened in text mode
#: with ``newline=""`` or in binary mode qualifies).
CsvSource: TypeAlias = str | bytes | bytearray | Iterable[str] | Iterable[bytes]


@dataclass(frozen=True, slots=True, repr=False)
class CsvBatch:
    """One batch ready to upload: the header row, then whole records, as UTF-8."""

    #: The batch body (header row first), UTF-8 encoded.
    data: bytes
    #: The number of records (data rows) in the batch.
    records: int
    #: The number of characters of the body.
    chars: int
    #: The 1-based number of the batch's first record in the whole input.
    first_record: int
    #: The 0-based position of the batch in the sequence of batches.
    index: int

    @property
    def size(self) -> int:
        """The body's size in bytes."""
        return len(self.data)

    @property
    def last_record(self) -> int:
        """The 1-based number of the batch's last record in the whole input."""
        return self.first_record + self.records - 1

    @property
    def text(self) -> str:
        """The body as text."""
        return self.data.decode("utf-8")

    def __repr__(self) -> str:
        # The data itself is left out: it may be large, and it is the user's data.
        return (
            f"CsvBatch(index={self.index}, records={self.records}, "
            f"first_record={self.first_record}, size={self.size}, chars={self.chars})"
        )


@dataclass(frozen=True, slots=True)
class CsvSummary:
    """What :func:`scan_csv` found: the header's field names and the batch plan."""

    fields: tuple[str, ...]
    records: int
    batches: int


# --------------------------------------------------------------------------- input


def _check_limits(max_records: int, max_bytes: int, max_chars: int) -> None:
    for name, value in (
        ("max_records", max_records),
        ("max_bytes", max_bytes),
        ("max_chars", max_chars),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")


def _text_chunks(source: CsvSource, encoding: str) -> Iterator[str]:
    """Text pieces of ``source``: bytes are decoded incrementally, a BOM is dropped."""
    if isinstance(source, str):
        pieces: Iterable[str | bytes] = [source]
    elif isinstance(source, (bytes, bytearray, memoryview)):
        pieces = [bytes(source)]
    else:
        pieces = source
    try:
        codec_name = codecs.lookup(encoding).name
    except LookupError:
        raise InvalidInputError(f"unknown encoding {encoding!r}") from None
    codec = "utf-8-sig" if codec_name == "utf-8" else encoding
    decoder: codecs.IncrementalDecoder | None = None
    mode = ""
    offset = 0
    started = False
    for piece in pieces:
        if isinstance(piece, str):
            if mode == "bytes":
                raise InvalidInputError("CSV input mixes bytes and str pieces")
            mode = "text"
            text = piece
            if not started and text:
                started = True
                if text.startswith("\ufeff"):
                    text = text[1:]
        elif isinstance(piece, (bytes, bytearray, memoryview)):
            if mode == "text":
                raise InvalidInputError("CSV input mixes bytes and str pieces")
            mode = "bytes"
            if decoder is None:
                decoder = codecs.getincrementaldecoder(codec)("strict")
            try:
                text = decoder.decode(piece)
            except UnicodeDecodeError as exc:
                raise InvalidInputError(
                    f"CSV input is not valid {encoding} near byte {offset + exc.start}"
                ) from None
            offset += len(piece)
        else:
            raise InvalidInputError(
                f"CSV input must yield str or bytes pieces, not {type(piece).__name__}"
            )
        if text:
            yield text
    if decoder is not None:
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInputError(
                f"CSV input ends inside a {encoding} character (byte {offset})"
            ) from None
        if tail:
            yield tail


class _TooLong(Exception):
    """Internal: a record grew past what any batch can hold."""


def _lines(chunks: Iterable[str], limit: int) -> Iterator[str]:
    """Split text pieces into lines ending at ``\\n`` (kept); refuse lines over ``limit``."""
    partial: list[str] = []
    partial_len = 0
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find("\n", start) + 1
            if not end:
                break
            if partial:
                partial.append(chunk[start:end])
                line = "".join(partial)
                partial.clear()
                partial_len = 0
            else:
                line = chunk[start:end]
            if len(line) > limit:
                raise _TooLong
            yield line
            start = end
        if start < len(chunk):
            rest = chunk[start:] if start else chunk
            partial.append(rest)
            partial_len += len(rest)
            if partial_len > limit:
                raise _TooLong
    if partial:
        yield "".join(partial)


class _LineTap:
    """Feeds lines to :func:`csv.reader` and remembers the raw text of the current record.

    :func:`csv.reader` pulls exactly the lines of one record before it returns
    that record (it never reads ahead), so the lines taken since the last row
    are that row's raw text.
    """

    def __init__(self, lines: Iterator[str], limit: int) -> None:
        self._lines = lines
        self._limit = limit
        self._taken: list[str] = []
        self._taken_len = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        self._taken_len += len(line)
        if self._taken_len > self._limit:
            raise _TooLong
        return line

    def take(self) -> str:
        raw = "".join(self._taken)
        self._taken.clear()
        self._taken_len = 0
        return raw


def _where(number: int, line: int) -> str:
    what = "CSV header" if number == 0 else f"CSV record {number}"
    return f"{what} (line {line})" if line else what


@dataclass(frozen=True, slots=True)
class _Record:
    raw: str
    number: int  # 0 for the header, then 1, 2, ...
    line: int  # first physical line (0 when not read from text)
    fields: list[str]


def _records(chunks: Iterable[str], limit: int) -> Iterator[_Record]:
    """The records of CSV text, the header first, with their raw text; blank lines skipped."""
    tap = _LineTap(_lines(chunks, limit), limit)
    reader = csv.reader(tap, strict=True)
    number = 0
    last_line = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInputError(
                f"{_where(number, last_line + 1)} is malformed CSV: {exc}"
            ) from None
        except _TooLong:
            raise InvalidInputError(
                f"{_where(number, last_line + 1)} is longer than {limit:,} characters, "
                "so it cannot fit in any batch"
            ) from None
        raw = tap.take()
        first_line = last_line + 1
        last_line = reader.line_num
        if not row:
            continue
        yield _Record(raw, number, first_line, row)
        number += 1


# --------------------------------------------------------------------------- packing


class _Packer:
    """Fills batches with whole records, cutting exactly at the three limits."""

    def __init__(
        self,
        header: str,
        *,
        max_records: int,
        max_bytes: int,
        max_chars: int,
        keep_data: bool = True,
    ) -> None:
        try:
            self._header = header.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("the CSV header cannot be encoded as UTF-8") from None
        self._header_chars = len(header)
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._max_chars = max_chars
        self._keep_data = keep_data
        self._pieces: list[bytes] = []
        self._records = 0
        self._bytes = len(self._header)
        self._chars = self._header_chars
        self._first = 0
        self._index = 0
        self.total_records = 0

    def add(self, raw: str, number: int, line: int) -> CsvBatch | None:
        """Add one record; return the batch it closed, if it did not fit in the open one."""
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(f"{_where(number, line)} cannot be encoded as UTF-8") from None
        size, chars = len(data), len(raw)
        alone_bytes = len(self._header) + size
        alone_chars = self._header_chars + chars
        if alone_bytes > self._max_bytes or alone_chars > self._max_chars:
            raise InvalidInputError(
                f"{_where(number, line)} does not fit in a batch even on its own: with the "
                f"header it is {alone_bytes:,} bytes and {alone_chars:,} characters, and a "
                f"batch holds at most {self._max_bytes:,} bytes and {self._max_chars:,} "
                "characters"
            )
        closed: CsvBatch | None = None
        if self._records and (
            self._records >= self._max_records
            or self._bytes + size > self._max_bytes
            or self._chars + chars > self._max_chars
        ):
            closed = self._close()
        if not self._records:
            self._first = number
        if self._keep_data:
            self._pieces.append(data)
        self._records += 1
        self._bytes += size
        self._chars += chars
        self.total_records += 1
        return closed

    def finish(self) -> CsvBatch | None:
        """The last, partly filled batch (``None`` when there were no records)."""
        return self._close() if self._records else None

    @property
    def batches(self) -> int:
        """How many batches have been closed so far."""
        return self._index

    def _close(self) -> CsvBatch:
        data = b"".join([self._header, *self._pieces]) if self._keep_data else b""
        batch = CsvBatch(
            data=data,
            records=self._records,
            chars=self._chars,
            first_record=self._first,
            index=self._index,
        )
        self._pieces = []
        self._records = 0
        self._bytes = len(self._header)
        self._chars = self._header_chars
        self._index += 1
        return batch


def _pack(
    records: Iterator[_Record],
    *,
    max_records: int,
    max_bytes: int,
    max_chars: int,
    keep_data: bool = True,
) -> Iterator[CsvBatch]:
    header = next(records, None)
    if header is None:
        return
    packer = _Packer(
        header.raw,
        max_records=max_records,
        max_bytes=max_bytes,
        max_chars=max_chars,
        keep_data=keep_data,
    )
    for record in records:
        closed = packer.add(record.raw, record.number, record.line)
        if closed is not None:
            yield closed
    last = packer.finish()
    if last is not None:
        yield last


# --------------------------------------------------------------------------- public API


def split_csv(
    source: CsvSource,
    *,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_chars: int = MAX_BATCH_CHARS,
    encoding: str = "utf-8",
) -> Iterator[CsvBatch]:
    """Cut CSV input into batches of whole records, each starting with the header row.

    ``source`` is a whole document (``str`` or ``bytes``) or an iterable of
    ``str`` or ``bytes`` pieces: lines, or chunks cut anywhere (even inside a
    UTF-8 character or a quoted field). ``encoding`` applies to bytes input;
    the batches are always UTF-8. The input is read lazily, one batch ahead at
    most. Input with a header and no records yields no batch.

    Raises :class:`~sfbulk_sdk.errors.InvalidInputError` for malformed CSV or a
    record that cannot fit even in an empty batch; batches before the faulty
    record have then already been produced (use :func:`scan_csv` or
    :func:`split_csv_file` to check everything first).
    """
    _check_limits(max_records, max_bytes, max_chars)
    return _pack(
        _records(_text_chunks(source, encoding), max_chars),
        max_records=max_records,
        max_bytes=max_bytes,
        max_chars=max_chars,
    )


def scan_csv(
    source: CsvSource,
    *,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_chars: int = MAX_BATCH_CHARS,
    encoding: str = "utf-8",
) -> CsvSummary:
    """Check CSV input without building any batch: the header, record and batch counts.

    Raises exactly what :func:`split_csv` would raise for the same input, so a
    clean scan guarantees that splitting the same data succeeds.
    """
    _check_limits(max_records, max_bytes, max_chars)
    records = _records(_text_chunks(source, encoding), max_chars)
    header = next(records, None)
    if header is None:
        return CsvSummary(fields=(), records=0, batches=0)
    packer = _Packer(
        header.raw,
        max_records=max_records,
        max_bytes=max_bytes,
        max_chars=max_chars,
        keep_data=False,
    )
    for record in records:
        packer.add(record.raw, record.number, record.line)
    packer.finish()
    return CsvSummary(
        fields=tuple(header.fields), records=packer.total_records, batches=packer.batches
    )


def _file_chunks(path: str | os.PathLike[str], chunk_size: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def split_csv_file(
    path: str | os.PathLike[str],
    *,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_chars: int = MAX_BATCH_CHARS,
    encoding: str = "utf-8",
    check_first: bool = True,
    chunk_size: int = _FILE_CHUNK,
) -> Iterator[CsvBatch]:
    """Cut a CSV file into batches, reading it lazily in binary chunks.

    With ``check_first`` (the default) the whole file is scanned before the
    first batch is produced, so a malformed or oversized record raises
    :class:`~sfbulk_sdk.errors.InvalidInputError` before anything can be sent.
    The file is then read a second time to build the batches. The file is
    opened when iteration starts and closed when it ends.
    """
    _check_limits(max_records, max_bytes, max_chars)
    if chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be positive, got {chunk_size!r}")

    def batches() -> Iterator[CsvBatch]:
        if check_first:
            scan_csv(
                _file_chunks(path, chunk_size),
                max_records=max_records,
                max_bytes=max_bytes,
                max_chars=max_chars,
                encoding=encoding,
            )
        yield from split_csv(
            _file_chunks(path, chunk_size),
            max_records=max_records,
            max_bytes=max_bytes,
            max_chars=max_chars,
            encoding=encoding,
        )

    return batches()


def iter_csv_file_batches(
    path: str | os.PathLike[str],
    *,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_chars: int = MAX_BATCH_CHARS,
    encoding: str = "utf-8",
    check_first: bool = True,
) -> Iterator[bytes]:
    """The bodies of :func:`split_csv_file`'s batches: UTF-8 CSV bytes ready to upload."""
    for batch in split_csv_file(
        path,
        max_records=max_records,
        max_bytes=max_bytes,
        max_chars=max_chars,
        encoding=encoding,
        check_first=check_first,
    ):
        yield batch.data


# --------------------------------------------------------------------------- serialising


def format_csv_value(value: Any) -> str:
    """One value as Salesforce reads it in a CSV upload.

    ``None`` is empty (Salesforce leaves the field unchanged; send ``"#N/A"``
    to clear it), booleans are ``true``/``false``, aware datetimes are written
    in UTC as ``2024-01-31T12:00:00.000Z`` (naive ones are taken as UTC),
    dates as ``2024-01-31``, numbers without exponent. NaN and infinities,
    nested mappings and sequences, and bytes are refused with
    :class:`~sfbulk_sdk.errors.InvalidInputError`.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return format_csv_value(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{value!r} cannot be sent to Salesforce")
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text or "E" in text else text
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInputError(f"{value!r} cannot be sent to Salesforce")
        return format(value, "f")
    if isinstance(value, datetime):
        moment = value.astimezone(timezone.utc) if value.tzinfo is not None else value
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        text = value.isoformat(timespec="milliseconds")
        return text if value.tzinfo is not None else text + "Z"
    if isinstance(value, (bytes, bytearray, memoryview, Mapping, list, tuple, set, frozenset)):
        raise InvalidInputError(
            f"a {type(value).__name__} value cannot be written to a CSV field "
            "(for a parent reference use a 'Parent.ExternalId__c' column)"
        )
    return str(value)


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


def _header(names: Iterable[Any], writer: _RowWriter) -> _Record:
    header = [str(name) for name in names]
    if not header:
        raise InvalidInputError("the CSV header has no field names")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InvalidInputError(f"the CSV header repeats field names: {duplicates}")
    return _Record(writer.render(header), 0, 0, header)


def _serialised(
    records: Iterable[Mapping[str, Any] | Sequence[Any]],
    fields: Sequence[str] | None,
    line_terminator: str,
) -> Iterator[_Record]:
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
            values: Sequence[Any] = [record.get(name) for name in header]
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
        yield _Record(writer.render(rendered), number, 0, header)


def csv_batches_from_records(
    records: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    fields: Sequence[str] | None = None,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_chars: int = MAX_BATCH_CHARS,
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
    _check_limits(max_records, max_bytes, max_chars)
    if line_terminator not in ("\n", "\r\n"):
        raise InvalidInputError("line_terminator must be '\\n' or '\\r\\n'")
    return _pack(
        _serialised(records, fields, line_terminator),
        max_records=max_records,
        max_bytes=max_bytes,
        max_chars=max_chars,
    )

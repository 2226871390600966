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
  (1-based, header excluded) and line. :func:`scan_csv` checks an input
  without building batches, so that a caller can refuse a whole input before
  anything is produced, and hence sent (:func:`sfbulk_sdk.csvfiles.split_csv_file`
  does so for a file).

Blank lines between records are skipped (they are not records). A leading
byte-order mark is dropped. Lines end at ``\\n`` (``\\r\\n`` included); a bare
``\\r`` outside quotes is rejected as malformed.

Three entry points produce :class:`CsvBatch` objects:

* :func:`split_csv`: CSV text or bytes, whole or as an iterable of chunks or
  lines (a text file must be opened with ``newline=""`` so that line breaks
  inside quoted fields are kept as they are);
* :func:`sfbulk_sdk.csvfiles.split_csv_file`: a file path, read lazily in
  binary chunks (the only one that opens a file, hence outside the core);
* :func:`csv_batches_from_records` (defined in
  :mod:`~sfbulk_sdk.core.csvrecords`): dicts or rows serialised the way
  Salesforce writes CSV (every value quoted, ``None`` as an empty value).

This module is pure: it never opens a file, it consumes what it is given. The
batch limits and :class:`CsvBatch` are defined in :mod:`~sfbulk_sdk.core.csvbatch`
and re-exported here, where users import them.

The parser relies on :func:`csv.field_size_limit`, whose default (131,072
characters) is also Salesforce's limit for one field.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

from ..errors import InvalidInputError
from .csvbatch import (
    BATCH_LIMITS,
    MAX_BATCH_BYTES,
    MAX_BATCH_CHARS,
    MAX_BATCH_RECORDS,
    CsvBatch,
    CsvRecord,
    Limits,
    check_limits,
    describe_record,
    pack_records,
)
from .csvrecords import csv_batches_from_records, format_csv_value

__all__ = [
    "BATCH_LIMITS",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_CHARS",
    "MAX_BATCH_RECORDS",
    "CsvBatch",
    "CsvSource",
    "CsvSummary",
    "Limits",
    "csv_batches_from_records",
    "format_csv_value",
    "scan_csv",
    "split_csv",
]

#: What :func:`split_csv` reads: a whole document, or an iterable of text or
#: bytes pieces (lines or arbitrary chunks; a file object opened in text mode
#: with ``newline=""`` or in binary mode qualifies).
CsvSource: TypeAlias = str | bytes | bytearray | Iterable[str] | Iterable[bytes]


@dataclass(frozen=True, slots=True)
class CsvSummary:
    """What :func:`scan_csv` found: the header's field names and the batch plan."""

    fields: tuple[str, ...]
    records: int
    batches: int


# --------------------------------------------------------------------------- input


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


def row_name(header: list[str], index: int) -> str:
    """The header's name of column ``index`` (0-based)."""
    return header[index] if index < len(header) else f"column {index + 1}"


def _records(
    chunks: Iterable[str], limit: int, delimiter: str = ",", one_ending: bool = False
) -> Iterator[CsvRecord]:
    """The records of CSV text, the header first, with their raw text; blank lines skipped.

    With ``one_ending``, a record whose line ends otherwise than the header's
    (CRLF or LF) is refused."""
    tap = _LineTap(_lines(chunks, limit), limit)
    reader = csv.reader(tap, strict=True, delimiter=delimiter)
    number = 0
    last_line = 0
    width = 0
    header: list[str] = []
    crlf: bool | None = None  # how the header's line ends: every record's must match
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInputError(
                f"{describe_record(number, last_line + 1)} is malformed CSV: {exc}"
            ) from None
        except _TooLong:
            raise InvalidInputError(
                f"{describe_record(number, last_line + 1)} is longer than {limit:,} characters, "
                "so it cannot fit in any batch"
            ) from None
        raw = tap.take()
        first_line = last_line + 1
        last_line = reader.line_num
        if not row:
            continue
        if number == 0:
            width = len(row)
        elif len(row) != width:
            # Salesforce would fail the batch (or drop values): refuse it here.
            where = describe_record(number, first_line)
            if len(row) > width:
                detail = f"column {width + 1} has no name in the header"
            else:
                detail = f"column {len(row) + 1} ({row_name(header, len(row))!r}) is missing"
            raise InvalidInputError(
                f"{where} has {len(row)} values; the header has {width}: {detail}"
            )
        if number == 0:
            header = row
        if one_ending and raw.endswith("\n"):
            ends_crlf = raw.endswith("\r\n")
            if crlf is None:
                crlf = ends_crlf
            elif ends_crlf is not crlf:
                # One job or batch has one line ending: a CR would join the last value.
                raise InvalidInputError(
                    f"{describe_record(number, first_line)} ends with "
                    f"{'CRLF' if ends_crlf else 'LF'} but the header with "
                    f"{'CRLF' if crlf else 'LF'}: a CSV's lines must all end the same way"
                )
        yield CsvRecord(raw, number, first_line, row)
        number += 1


# --------------------------------------------------------------------------- public API


def _records_of(
    source: CsvSource, limits: Limits, encoding: str, delimiter: str, one_ending: bool = False
) -> Iterator[CsvRecord]:
    """The records of ``source`` (header first), once the arguments are checked."""
    check_limits(limits)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise InvalidInputError(f"the CSV delimiter must be one character, not {delimiter!r}")
    return _records(_text_chunks(source, encoding), limits.max_chars, delimiter, one_ending)


def split_csv(
    source: CsvSource,
    *,
    limits: Limits = BATCH_LIMITS,
    encoding: str = "utf-8",
    delimiter: str = ",",
    one_ending: bool = False,
) -> Iterator[CsvBatch]:
    """Cut CSV input into batches of whole records, each starting with the header row.

    ``source`` is a whole document (``str`` or ``bytes``) or an iterable of
    ``str`` or ``bytes`` pieces: lines, or chunks cut anywhere (even inside a
    UTF-8 character or a quoted field). ``encoding`` applies to bytes input;
    the batches are always UTF-8. The input is read lazily, one batch ahead at
    most. Input with a header and no records yields no batch.

    Raises :class:`~sfbulk_sdk.errors.InvalidInputError` for malformed CSV or a
    record that cannot fit even in an empty batch (with ``one_ending``, for a
    record whose line ends otherwise than the header's, which one Bulk 2.0 job
    cannot take: its ``lineEnding`` is one of LF and CRLF); batches before the faulty
    record have then already been produced (use :func:`scan_csv`, or
    :func:`sfbulk_sdk.csvfiles.split_csv_file` for a file, to check everything
    first).
    """
    return pack_records(_records_of(source, limits, encoding, delimiter, one_ending), limits)


def scan_csv(
    source: CsvSource,
    *,
    limits: Limits = BATCH_LIMITS,
    encoding: str = "utf-8",
    delimiter: str = ",",
    one_ending: bool = False,
) -> CsvSummary:
    """Check CSV input without building any batch: the header, record and batch counts.

    Raises exactly what :func:`split_csv` would raise for the same input, so a
    clean scan guarantees that splitting the same data succeeds.
    """
    records = _records_of(source, limits, encoding, delimiter, one_ending)
    header = next(records, None)
    if header is None:
        return CsvSummary(fields=(), records=0, batches=0)
    plan = pack_records(itertools.chain([header], records), limits, keep_data=False)
    batches = total = 0
    for batch in plan:
        batches += 1
        total += batch.records
    return CsvSummary(fields=tuple(header.fields), records=total, batches=batches)

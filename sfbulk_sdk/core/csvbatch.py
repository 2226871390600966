"""A Bulk API 1.0 CSV batch: its limits, and the packer that fills batches exactly.

A Bulk API 1.0 batch holds at most 10,000 records, 10,000,000 bytes of UTF-8
and 10,000,000 characters, the header row included in every batch. The limits
are defined here, once, and travel together as one :class:`Limits` value.
:class:`BatchPacker` (and :func:`pack_records` over it) fills batches with
whole records, the header row repeated at the top of each, cutting exactly at
the three limits; a record that cannot fit even in an empty batch raises
:class:`~sfbulk_sdk.errors.InvalidInputError`.

This is the shared base of :mod:`~sfbulk_sdk.core.csvsplit` (CSV input) and
:mod:`~sfbulk_sdk.core.csvrecords` (records serialised to CSV); users import
the batch and the limits from :mod:`~sfbulk_sdk.core.csvsplit`. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InvalidInputError

__all__ = [
    "BATCH_LIMITS",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_CHARS",
    "MAX_BATCH_RECORDS",
    "BatchPacker",
    "CsvBatch",
    "CsvRecord",
    "Limits",
    "check_limits",
    "describe_record",
    "pack_records",
]

#: Most records in one Bulk API 1.0 batch.
MAX_BATCH_RECORDS = 10_000
#: Most bytes (UTF-8) in one Bulk API 1.0 batch.
MAX_BATCH_BYTES = 10_000_000
#: Most characters in one Bulk API 1.0 batch.
MAX_BATCH_CHARS = 10_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """What one upload body may hold, the header row included: records, UTF-8 bytes, characters.

    The defaults are a Bulk API 1.0 batch's (:data:`BATCH_LIMITS`); a Bulk API 2.0
    job body sets its own. Every limit must be a positive integer, or
    :class:`~sfbulk_sdk.errors.InvalidInputError` is raised.
    """

    max_records: int = MAX_BATCH_RECORDS
    max_bytes: int = MAX_BATCH_BYTES
    max_chars: int = MAX_BATCH_CHARS

    def __post_init__(self) -> None:
        for name in ("max_records", "max_bytes", "max_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")


#: The limits of one Bulk API 1.0 batch.
BATCH_LIMITS = Limits()


def check_limits(limits: Limits) -> Limits:
    """``limits``, refused with :class:`~sfbulk_sdk.errors.InvalidInputError` unless a Limits."""
    if not isinstance(limits, Limits):
        raise InvalidInputError(f"limits must be a Limits value, not {type(limits).__name__}")
    return limits


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


def describe_record(number: int, line: int) -> str:
    what = "CSV header" if number == 0 else f"CSV record {number}"
    return f"{what} (line {line})" if line else what


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One record as read or serialised: its raw CSV text (line ending kept) and fields."""

    raw: str
    number: int  # 0 for the header, then 1, 2, ...
    line: int  # first physical line (0 when not read from text)
    fields: list[str]


class BatchPacker:
    """Fills batches with whole records, cutting exactly at the three limits."""

    def __init__(
        self,
        header: str,
        limits: Limits,
        *,
        keep_data: bool = True,
    ) -> None:
        try:
            self._header = header.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("the CSV header cannot be encoded as UTF-8") from None
        self._header_chars = len(header)
        self._max_records = limits.max_records
        self._max_bytes = limits.max_bytes
        self._max_chars = limits.max_chars
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
            raise InvalidInputError(
                f"{describe_record(number, line)} cannot be encoded as UTF-8"
            ) from None
        size, chars = len(data), len(raw)
        alone_bytes = len(self._header) + size
        alone_chars = self._header_chars + chars
        if alone_bytes > self._max_bytes or alone_chars > self._max_chars:
            where = describe_record(number, line)
            raise InvalidInputError(
                f"{where} does not fit in a batch even on its own: with the "
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


def pack_records(
    records: Iterator[CsvRecord],
    limits: Limits,
    *,
    keep_data: bool = True,
) -> Iterator[CsvBatch]:
    header = next(records, None)
    if header is None:
        return
    packer = BatchPacker(header.raw, limits, keep_data=keep_data)
    for record in records:
        closed = packer.add(record.raw, record.number, record.line)
        if closed is not None:
            yield closed
    last = packer.finish()
    if last is not None:
        yield last

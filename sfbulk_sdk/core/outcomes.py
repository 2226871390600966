"""The outcome of a load, one per input row, held in columns (sans-IO).

A million outcomes must cost little: :class:`LoadResult` keeps them as
columns (record ids packed into one ``bytearray``, success and created flags
one byte each, error texts only for the rows that failed) and builds a
:class:`RecordOutcome` only when one is looked at. Rows are 0-based input
positions here; :attr:`RecordOutcome.row` is that position.

Bulk API 1.0 answers one result per uploaded row, in upload order, so every
outcome lands on its input row. Bulk API 2.0 results come in no particular
order; update, delete, hardDelete and upsert outcomes are joined to their rows
by the uploaded ``Id`` or external id; insert outcomes cannot be, and a Bulk
2.0 insert's result says so (:attr:`LoadResult.rows_known` is false and its
outcomes have ``row=None``, in Salesforce's order).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from ..errors import InvalidInputError, ProtocolError
from ..models.results import RecordError
from . import frames

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["LOCK_ERRORS", "LoadResult", "RecordOutcome"]

#: Errors a row gets when it could not be locked: worth sending again.
LOCK_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW"})
_ID = 18
#: A row's id slot: the id padded with spaces to 18 characters, then a line break, so
#: that :meth:`LoadResult.ids` gets every id from one ``str.split`` instead of a slice
#: each (a line break inside an id is stored as a space: no id holds either).
_SLOT = _ID + 1
_BLANK = b" " * _ID + b"\n"


def _slots(ids: Sequence[bytes]) -> bytes:
    """The id slots of ``ids`` (an id of another length padded or cut to 18 characters)."""
    joined = b"\n".join(ids) + b"\n"
    if len(joined) != _SLOT * len(ids) or joined.count(b"\n") != len(ids):
        joined = b"".join([_slot(i) for i in ids])
    return joined


def _slot(record_id: bytes) -> bytes:
    return record_id.replace(b"\n", b" ")[:_ID].ljust(_ID) + b"\n"


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What happened to one input row.

    ``row`` is its 0-based position in the input (``None`` where the API cannot
    tell: a Bulk 2.0 insert); ``id`` the record's id (``None`` for a failed
    insert); ``errors`` why it failed; ``resubmitted`` how many times it was
    sent again after a lock failure.
    """

    row: int | None
    success: bool
    created: bool
    id: str | None
    errors: tuple[RecordError, ...] = ()
    resubmitted: int = 0

    @property
    def error(self) -> str:
        """All errors as one line (``STATUS_CODE:message:fields``), empty when none."""
        return "; ".join(e.to_csv_text() for e in self.errors)


#: One result line as Salesforce writes it: four quoted values (``""`` inside the error).
_RESULT_LINE = re.compile(
    rb'^"([^"\r\n]*)","(true|false)","(true|false)","((?:[^"\r\n]|"")*)"\r?$', re.MULTILINE
)
_HEADER = ["id", "success", "created", "error"]
#: What follows the id on a line of a successful record: created or not, LF or CRLF.
_UNIFORM_TAILS = {
    b'","true","' + flag + b'",""' + end: flag == b"true"
    for flag in (b"true", b"false")
    for end in (b"\n", b"\r\n")
}


def _check_result_header(line: bytes) -> None:
    try:
        header = next(csv.reader([line.decode("utf-8").rstrip("\r\n")]), None)
    except (UnicodeDecodeError, csv.Error):
        header = None
    if header is None or [h.lower() for h in header[:4]] != _HEADER:
        raise ProtocolError("a batch result file without the Id,Success,Created,Error header")


#: Where one error of a row's error text ends and the next begins: a line break after
#: an error's ``--`` end, or before a line that starts with a status code
#: (``DUPLICATE_VALUE:``). A message may span lines (an Apex trigger's stack:
#: ``...\n\ncaused by: System.NullPointerException: ...``): those breaks are kept.
_ERROR_END = re.compile(r"(?<=--)[ \t]*\r?\n|\r?\n(?=[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+:)")


def _errors(text: str) -> tuple[RecordError, ...]:
    return tuple(RecordError.from_csv_text(part) for part in _ERROR_END.split(text) if part.strip())


@dataclass
class LoadResult:
    """Per-row outcomes of a load, in input order, and the jobs that made them."""

    operation: str
    sobject: str
    api: str
    size: int = 0
    jobs: list[str] = field(default_factory=list)
    rows_known: bool = True
    _ids: bytearray = field(default_factory=bytearray, repr=False)
    _ok: bytearray = field(default_factory=bytearray, repr=False)
    _new: bytearray = field(default_factory=bytearray, repr=False)
    _errors: dict[int, str] = field(default_factory=dict, repr=False)
    _seen: bytearray = field(default_factory=bytearray, repr=False)
    _resubmitted: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._ids:
            self._ids = bytearray(_BLANK * self.size)
            self._ok = bytearray(self.size)
            self._new = bytearray(self.size)
            self._seen = bytearray(self.size)

    def __repr__(self) -> str:
        return (
            f"LoadResult({self.operation} {self.sobject} via {self.api}: {self.size} rows, "
            f"{self.succeeded} succeeded, {self.failed_count} failed, jobs={self.jobs})"
        )

    # ------------------------------------------------------------------ filling

    def grow(self, rows: int) -> int:
        """Make room for ``rows`` more input rows; returns the first new row's position."""
        first = self.size
        self._ids.extend(_BLANK * rows)
        self._ok.extend(bytes(rows))
        self._new.extend(bytes(rows))
        self._seen.extend(bytes(rows))
        self.size += rows
        return first

    def record(self, row: int, record_id: str, success: bool, created: bool, error: str) -> None:
        """Set the outcome of ``row`` (a later outcome of the same row replaces it)."""
        slot = _slot(record_id.encode("ascii", "replace")) if record_id else _BLANK
        self._ids[row * _SLOT : row * _SLOT + _SLOT] = slot
        self._ok[row] = success
        self._new[row] = created
        self._seen[row] = 1
        if success:
            self._errors.pop(row, None)
        else:
            self._errors[row] = error

    def succeed_block(self, first_row: int, ids: Sequence[str], created: bytes) -> None:
        """Rows ``first_row`` on succeeded, with these record ids and created flags
        (one byte each, 1: created): a block of outcomes set column by column."""
        count = len(ids)
        end = first_row + count
        if end > self.size or len(created) != count:
            raise ProtocolError(f"{count} outcomes do not fit rows {first_row} to {end - 1}")
        joined = ("\n".join(ids) + "\n").encode("ascii", "replace") if ids else b""
        if len(joined) != _SLOT * count or joined.count(b"\n") != count:
            # an id of another length (or holding a line break): one by one
            joined = b"".join([_slot(i.encode("ascii", "replace")) for i in ids])
        self._ids[first_row * _SLOT : end * _SLOT] = joined
        self._ok[first_row:end] = b"\x01" * count
        self._new[first_row:end] = created
        self._seen[first_row:end] = b"\x01" * count
        if self._errors:  # a later outcome replaces an earlier failure
            for row in range(first_row, end):
                self._errors.pop(row, None)

    def add_bulk1_results(self, first_row: int, rows: int, body: bytes | str) -> None:
        """Read a Bulk 1.0 batch's CSV results (``"Id","Success","Created","Error"``).

        One result per uploaded record, in upload order: result ``k`` is input row
        ``first_row + k``. A result file with another number of rows is refused.
        The file as Salesforce writes it (every value quoted, one line per result)
        is read in columns by one regular-expression pass; anything else by
        :mod:`csv`, row by row.
        """
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        data = data.removeprefix(b"\xef\xbb\xbf")
        cut = data.find(b"\n") + 1 or len(data)
        _check_result_header(data[:cut])
        rest = data[cut:]
        if not (self._uniform(first_row, rows, rest) or self._columns(first_row, rows, rest)):
            self._rows(first_row, rows, rest)

    def _uniform(self, first_row: int, rows: int, data: bytes) -> bool:
        """The commonest file, read at C speed: every record succeeded, all created or all
        updated, ``"<id>","true","<created>",""`` a line. False for any other file."""
        line_end = data.find(b"\n") + 1
        tail = data[data.find(b'"', 1) : line_end] if line_end else b""
        created = _UNIFORM_TAILS.get(tail)
        if created is None or not data.startswith(b'"') or not data.endswith(tail):
            return False
        ids = data[1 : len(data) - len(tail)].split(tail + b'"')
        if len(ids) != rows or not b"".join(ids).isalnum():
            return False  # an id holding anything but letters and digits: not this shape
        end = first_row + rows
        self._ids[first_row * _SLOT : end * _SLOT] = _slots(ids)
        self._ok[first_row:end] = b"\x01" * rows
        self._new[first_row:end] = (b"\x01" if created else b"\x00") * rows
        self._seen[first_row:end] = b"\x01" * rows
        return True

    def _columns(self, first_row: int, rows: int, data: bytes) -> bool:
        """The fast reading of :meth:`add_bulk1_results`; false when ``data`` needs csv."""
        found = _RESULT_LINE.findall(data)
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        if len(found) != lines or len(found) != rows or not rows:
            return rows == 0 == lines
        ids, success, created, errors = zip(*found, strict=True)
        joined = _slots(ids)
        if not joined.isascii():
            return False
        end = first_row + rows
        self._ids[first_row * _SLOT : end * _SLOT] = joined
        self._seen[first_row:end] = b"\x01" * rows
        self._new[first_row:end] = (
            b"\x01" * rows if b"false" not in created else bytes(c == b"true" for c in created)
        )
        if b"false" not in success:
            self._ok[first_row:end] = b"\x01" * rows
            return True
        self._ok[first_row:end] = bytes(v == b"true" for v in success)
        for offset, good in enumerate(success):
            if good != b"true":
                text = errors[offset].replace(b'""', b'"')
                self._errors[first_row + offset] = text.decode("utf-8", "replace")
        return True

    def _rows(self, first_row: int, rows: int, data: bytes) -> None:
        """Results read by :mod:`csv` (values unquoted, or spanning lines)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"a batch result file that is not UTF-8: {exc}") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        ids, ok, new, seen, errors = self._ids, self._ok, self._new, self._seen, self._errors
        row = first_row
        end = first_row + rows
        try:
            for values in reader:
                if not values:
                    continue
                if row >= end:
                    raise ProtocolError(f"a batch of {rows} records returned more results")
                if len(values) < 4:
                    raise ProtocolError("a batch result row without Id,Success,Created,Error")
                record_id, success, created, error = values[0], values[1], values[2], values[3]
                if record_id:
                    slot = _slot(record_id.encode("ascii", "replace"))
                    ids[row * _SLOT : row * _SLOT + _SLOT] = slot
                good = success == "true"
                ok[row] = good
                new[row] = created == "true"
                seen[row] = 1
                if not good:
                    errors[row] = error
                row += 1
        except csv.Error as exc:
            raise ProtocolError(f"a malformed batch result file: {exc}") from None
        if row != end:
            raise ProtocolError(f"a batch of {rows} records returned {row - first_row} results")

    def append_bulk1_results(self, body: bytes | str) -> int:
        """Add a batch's results as the next rows (a re-attached job: row count unknown)."""
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
        count = sum(1 for values in csv.reader(io.StringIO(text, newline="")) if values) - 1
        first = self.grow(max(0, count))
        self.add_bulk1_results(first, max(0, count), text)
        return first

    def mark_resubmitted(self, rows: Iterable[int]) -> None:
        """Note that ``rows`` were sent again (after a lock failure)."""
        for row in rows:
            self._resubmitted[row] = self._resubmitted.get(row, 0) + 1

    def not_processed(self, first_row: int, rows: int, reason: str) -> None:
        """Rows of a batch that failed or was never processed: each failed with ``reason``."""
        for row in range(first_row, first_row + rows):
            if not self._seen[row]:
                self.record(row, "", False, False, reason)

    def fail_unanswered(self, reason: str) -> int:
        """Fail every row no result was recorded for with ``reason``; how many there were."""
        seen = self._seen
        count = 0
        at = seen.find(0)
        while at != -1:
            self.record(at, "", False, False, reason)
            count += 1
            at = seen.find(0, at + 1)
        return count

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, row: int) -> RecordOutcome:
        if not 0 <= row < self.size:
            raise IndexError(row)
        record_id = self._ids[row * _SLOT : row * _SLOT + _ID].decode("ascii").strip()
        error = self._errors.get(row)
        return RecordOutcome(
            row=row if self.rows_known else None,
            success=bool(self._ok[row]),
            created=bool(self._new[row]),
            id=record_id or None,
            errors=_errors(error) if error else (),
            resubmitted=self._resubmitted.get(row, 0),
        )

    def __iter__(self) -> Iterator[RecordOutcome]:
        for row in range(self.size):
            yield self[row]

    @property
    def succeeded(self) -> int:
        """How many rows succeeded."""
        return self._ok.count(1)

    @property
    def failed_count(self) -> int:
        """How many rows failed."""
        return self.size - self.succeeded

    @property
    def created_count(self) -> int:
        """How many rows created a record."""
        return self._new.count(1)

    @property
    def ok(self) -> bool:
        """True when every row succeeded."""
        return self.succeeded == self.size

    def failed(self) -> list[RecordOutcome]:
        """The failed rows' outcomes, in input order."""
        return [self[row] for row in sorted(self._errors)]

    def failed_rows(self) -> list[int]:
        """The input positions of the failed rows."""
        return sorted(self._errors)

    def ids(self) -> list[str | None]:
        """Every row's record id (``None`` where there is none), in input order."""
        raw = self._ids.decode("ascii")
        ids = raw.split("\n")
        ids.pop()  # (after the last slot's line break)
        if " " in raw:  # an id shorter than 18 characters, or none
            return [i.strip() or None for i in ids]
        return cast("list[str | None]", ids)

    @property
    def resubmitted(self) -> dict[int, int]:
        """Rows sent again after a lock failure, and how many times."""
        return dict(self._resubmitted)

    def lock_failures(self) -> list[int]:
        """Rows whose last outcome is a lock failure (``UNABLE_TO_LOCK_ROW``)."""
        return [
            row
            for row, text in self._errors.items()
            if any(e.status_code in LOCK_ERRORS for e in _errors(text))
        ]

    def flags(self) -> tuple[bytes, bytes]:
        """Every row's success and created flags, one byte each (1: true), in input order."""
        return bytes(self._ok), bytes(self._new)

    def to_pandas(self) -> pd.DataFrame:
        """The outcomes as a pandas DataFrame (the ``pandas`` extra; see :mod:`.frames`)."""
        return frames.outcomes_to_pandas(self)

    def to_arrow(self) -> pa.Table:
        """The outcomes as a pyarrow Table (the ``arrow`` extra; see :mod:`.frames`)."""
        return frames.outcomes_to_arrow(self)

    def unanswered(self) -> list[int]:
        """Rows no result has been recorded for yet."""
        return [row for row in range(self.size) if not self._seen[row]]

    # ------------------------------------------------------------------ Data Loader files

    def success_csv(
        self, header: Sequence[str], rows: Iterable[Sequence[object] | Mapping[str, object]]
    ) -> str:
        """A Data Loader-style success file: the input columns of the rows that
        succeeded, then ``sf__Id`` and ``sf__Created``.

        ``rows`` are the loaded rows in input order, each a sequence of values in
        ``header`` order or a mapping read by the ``header`` names. Refused
        (:class:`~sfbulk_sdk.errors.InvalidInputError`) when the outcomes are not
        tied to input rows (a Bulk 2.0 insert: :attr:`rows_known` is false), or when
        ``rows`` does not match the load (another count, a row of another width).
        """
        return self._report(header, rows, success=True)

    def error_csv(
        self, header: Sequence[str], rows: Iterable[Sequence[object] | Mapping[str, object]]
    ) -> str:
        """A Data Loader-style error file: the failed rows' input columns and ``sf__Error``
        (``rows`` as for :meth:`success_csv`)."""
        return self._report(header, rows, success=False)

    def _report(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[object] | Mapping[str, object]],
        *,
        success: bool,
    ) -> str:
        if not self.rows_known:
            raise InvalidInputError(
                "this load's outcomes are not tied to input rows (a Bulk 2.0 insert: "
                "rows_known is false): read each outcome's id and errors from the result, "
                "or load with api='bulk1' to get them row by row"
            )
        names = _report_header(header)
        try:
            given = iter(rows)
        except TypeError:
            raise InvalidInputError(
                f"rows must be the loaded rows, in input order, not {type(rows).__name__}"
            ) from None
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        extra = ["sf__Id", "sf__Created"] if success else ["sf__Id", "sf__Error"]
        writer.writerow([*names, *extra])
        count = 0
        for row, values in enumerate(given):
            cells = _report_cells(row, values, names)
            count += 1
            if row >= self.size or bool(self._ok[row]) is not success:
                continue
            outcome = self[row]
            tail = [outcome.id or "", "true" if outcome.created else "false"]
            if not success:
                tail = [outcome.id or "", outcome.error]
            writer.writerow([*("" if v is None else v for v in cells), *tail])
        if count != self.size:
            raise InvalidInputError(f"rows holds {count:,} rows; the load had {self.size:,}")
        return out.getvalue()


def _report_header(header: object) -> list[str]:
    """The input columns of a Data Loader-style file: a sequence of names (not one string)."""
    if isinstance(header, (str, bytes)) or not isinstance(header, Sequence):
        raise InvalidInputError(
            f"header must be the loaded columns' names, not {type(header).__name__}"
        )
    names = list(header)
    for name in names:
        if not isinstance(name, str):
            raise InvalidInputError(f"header names are strings, not {type(name).__name__}")
    return names


def _report_cells(row: int, values: object, names: list[str]) -> Sequence[object]:
    """One loaded row's values in header order (a mapping is read by name)."""
    if isinstance(values, Mapping):
        return [values.get(name) for name in names]
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InvalidInputError(
            f"row {row + 1} is a {type(values).__name__}: give each row as a sequence of "
            "values in header order or as a mapping"
        )
    if len(values) != len(names):
        raise InvalidInputError(
            f"row {row + 1} holds {len(values)} values; the header names {len(names)}"
        )
    return values

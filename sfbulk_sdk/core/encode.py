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

The common case costs little: a block of rows of plain strings and integers
is written column by column at C speed (one ``str.join`` proves a column is
text; only a column holding something else has its types looked at); only
rows holding other types go through :func:`format_value` value by value.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from enum import Enum
from typing import Protocol

from ..errors import InvalidInputError
from .batch_input import CheckedCsv
from .csvbatch import Limits
from .rowsource import BLOCK as _BLOCK
from .rowsource import BlockRows, Row, rows_of_mappings, rows_of_sequences

__all__ = [
    "NULL",
    "BlockRows",
    "EncodedBody",
    "RecordEncoder",
    "RepeatedKeyError",
    "check_join_keys",
    "format_value",
    "rows_of_mappings",
    "rows_of_sequences",
]

#: What Salesforce reads as "set this field to null" in a CSV upload.
NULL = "#N/A"

_PLAIN = frozenset({str, int})


class _CsvWriter(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...

    def writerows(self, rows: Iterable[Iterable[object]], /) -> object: ...


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # over the interpreter's digit limit for int-to-str conversion
        raise InvalidInputError("this integer has too many digits to be written as text") from None


def _int_column_text(column: Sequence[object]) -> list[str] | None:
    """A column of exact ``str`` and ``int`` values as csv writes them; else ``None``."""
    if not _PLAIN.issuperset(map(type, column)):
        return None
    try:
        return list(map(str, column))
    except ValueError:  # an int over str()'s digit limit: the checked path names it
        return None


def _joined_rows(columns: list[Sequence[str]], delimiter: str, ending: str) -> str:
    """The rows of text ``columns``, each ended by ``ending`` (``TypeError`` on a non-text)."""
    return ending.join(map(delimiter.join, zip(*columns, strict=True))) + ending


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
        return _int_text(value)  # type: ignore[arg-type]
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
    if isinstance(value, str):  # its text, as csv writes it (not what __str__ says)
        return str.__str__(value)
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInputError(f"{value!r} is not a number Salesforce can store")
        return format(value, "f")
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _time_text(value)
    if isinstance(value, float):
        return format_value(float(value), null=null)
    if kind.__module__ == "numpy" and callable(getattr(value, "item", None)):
        native = value.item()  # type: ignore[attr-defined]  # np.int64, np.bool_, ...
        if type(native).__module__ != "numpy" and native is not value:
            return format_value(native, null=null)
    raise InvalidInputError(
        f"a {type(value).__name__} value cannot be written to a CSV field "
        "(for a parent reference use a 'Parent.ExternalId__c' column)"
    )


def _datetime_text(value: datetime) -> str:
    """``value`` in UTC with milliseconds, the year in four digits (a naive one is UTC)."""
    moment = value
    if value.utcoffset() is not None:
        try:
            moment = value.astimezone(timezone.utc)
        except OverflowError:
            raise InvalidInputError(
                f"{value.isoformat()} is out of range once moved to UTC"
            ) from None
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def _time_text(value: time) -> str:
    """``value`` in UTC with milliseconds (Salesforce's ``HH:MM:SS.sssZ``)."""
    offset = value.utcoffset()
    if offset is not None:
        moment = datetime.combine(date(2000, 1, 1), value.replace(tzinfo=None)) - offset
        value = moment.time()
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


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
    #: Written by :class:`RecordEncoder` (so already checked), not read from a file.
    encoded: bool = False

    @property
    def payload(self) -> bytes | CheckedCsv:
        """What to upload: the data, marked as checked when the encoder wrote it."""
        return CheckedCsv(self.data) if self.encoded else self.data

    def __repr__(self) -> str:  # the data is the caller's: never shown
        return f"EncodedBody(first_row={self.first_row}, rows={self.rows}, bytes={len(self.data)})"


class RecordEncoder:
    """Writes rows of values (in ``fields`` order) into bodies within ``limits``.

    ``key`` names a field whose values are collected per body (the join
    column of a Bulk 2.0 load). Feed rows with :meth:`bodies`.
    """

    def __init__(
        self,
        fields: Sequence[str],
        *,
        limits: Limits,
        delimiter: str = ",",
        line_ending: str = "\n",
        null: str = NULL,
        key: str | None = None,
        unit: str = "batch",
    ) -> None:
        names = [str(name) for name in fields]
        if not names or any(not name for name in names):
            raise InvalidInputError("a load needs at least one field, and every field a name")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InvalidInputError(f"the fields repeat names: {repeated}")
        if not all(map(_encodable, names)):
            raise InvalidInputError(
                "a field name holds a lone surrogate, which UTF-8 cannot encode"
            )
        self.fields = names
        self._max_records = limits.max_records
        self._max_bytes = limits.max_bytes
        self._max_chars = limits.max_chars
        self._delimiter = delimiter
        self._line_ending = line_ending
        self._null = null
        self._unit = unit  # what a body is called in messages: a batch, or a job (Bulk 2.0)
        self._key = None if key is None else self._key_index(key)
        self._columns = [operator.itemgetter(i) for i in range(len(names))]
        self._numeric: set[int] = set()  # columns that held ints: made text first
        escaped = delimiter.replace("%", "%%")
        self._row_format = escaped.join(["%s"] * len(names)) + line_ending.replace("%", "%%")

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

    def _checked(self, block: list[Row], number: int) -> list[Row]:
        """``block`` with every row as wide as the fields and its values writable as they are.

        One C-level pass over the widths and one over the value types serve the
        common block (plain strings and integers); only the rows holding other
        types are formatted value by value.
        """
        width = len(self.fields)
        if set(map(len, block)) != {width}:
            for offset, row in enumerate(block):
                if len(row) != width:
                    raise InvalidInputError(
                        f"row {number + offset + 1} has {len(row)} values for {width} fields"
                    )
        if _PLAIN.issuperset(map(type, itertools.chain.from_iterable(block))):
            return block
        plain = _PLAIN
        return [
            row if plain.issuperset(map(type, row)) else self._format(row, number + offset)
            for offset, row in enumerate(block)
        ]

    def _block_text(
        self, block: list[Row], number: int, exact: bool = False
    ) -> tuple[str, list[Row], list[Sequence[str]] | None]:
        """``block`` written (rows ``number`` on): its text, its rows with every value
        writable as it is, and its text columns when the plain path wrote it."""
        plain = self._plain_text(block, exact)
        if plain is not None:
            return plain[0], block, plain[1]
        block = self._checked(block, number)
        try:
            return self._render(block), block, None
        except ValueError:  # an int too long for str(): name its row and field
            for offset, row in enumerate(block):
                self._format(row, number + offset)
            raise

    def _plain_text(
        self, block: list[Row], exact: bool = False
    ) -> tuple[str, list[Sequence[str]]] | None:
        """``block`` as csv would write it, with its values column by column as text, when
        every row is as wide as the fields, every value is text or an ``int`` and
        none needs quoting; else ``None``.

        The rows are written by one ``str.join`` a row over the text columns (C
        speed, no call per value; a ``TypeError`` proves a column holds
        something else). Only the columns that do have their types looked at,
        and their ``int`` values written with ``str()`` as csv does; the
        encoder remembers them for the next blocks. A str subclass is written
        as its text, as csv writes it. Every row adds exactly ``width - 1``
        delimiters and one line ending, so a value holding a delimiter, a
        quote or a line break shows in the counts. A block of one field is
        left to the csv writer (it quotes an empty value).
        """
        width = len(self.fields)
        if width < 2 or (not exact and set(map(len, block)) != {width}):
            return None  # (``exact``: every row is known to be as wide as the fields)
        # One pass a column (not zip(*block), which makes an iterator a row: a million
        # rows of those cost the garbage collector more than the transposition).
        columns: list[Sequence[str]] = [list(map(get, block)) for get in self._columns]
        numeric = self._numeric
        for index in numeric:
            text_column = _int_column_text(columns[index])
            if text_column is None:
                return None
            columns[index] = text_column
        ending, delimiter = self._line_ending, self._delimiter
        try:
            text = _joined_rows(columns, delimiter, ending)
        except TypeError:  # a column holds something else than text: which ones?
            for index, column in enumerate(columns):
                if index in numeric:
                    continue
                try:
                    "".join(column)
                except TypeError:
                    text_column = _int_column_text(column)
                    if text_column is None:
                        return None
                    columns[index] = text_column
                    numeric.add(index)
            text = _joined_rows(columns, delimiter, ending)
        if not self._unquoted(text, len(block)):
            return None
        return text, columns

    def _render(self, rows: Sequence[Row]) -> str:
        text = self._render_plain(rows)
        if text is not None:
            return text
        buffer = io.StringIO()
        self._writer(buffer).writerows(rows)
        text = buffer.getvalue()
        if "\r" in text and self._line_ending != "\r\n":
            # csv quotes a value holding a bare CR only when CR ends its lines: write
            # these rows that way, then give them back their line ending.
            return "".join(map(self._render_cr, rows))
        return text

    def _render_plain(self, rows: Sequence[Row]) -> str | None:
        """``rows`` as :mod:`csv` would write them, when no value needs quoting; else ``None``.

        Each row is one ``%`` formatting (C speed; the values are checked ``str``
        and ``int``, which ``%s`` writes as ``csv`` does). Every row adds exactly
        ``width - 1`` delimiters and one line ending, so any value holding a
        delimiter, a quote or a line break shows in the counts, and the rows then
        go to the csv writer. A row of one field is always left to it (``csv``
        quotes an empty one).
        """
        width = len(self.fields)
        if width < 2 or not rows:
            return None
        text = "".join(map(self._row_format.__mod__, map(tuple, rows)))
        count = len(rows)
        return text if self._unquoted(text, count) else None

    def _unquoted(self, text: str, rows: int) -> bool:
        """True when ``text``, ``rows`` rows written plainly, holds no value csv would quote:
        no quote, and exactly ``width - 1`` delimiters and one line ending a row."""
        ending = self._line_ending
        returns = ending.count("\r")
        return not (
            '"' in text
            or (text.count("\r") != rows * returns if returns else "\r" in text)
            or text.count(self._delimiter) != rows * (len(self.fields) - 1)
            or text.count("\n") != rows * ending.count("\n")
        )

    def _render_cr(self, row: Row) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self._delimiter, lineterminator="\r\n").writerow(row)
        return buffer.getvalue()[:-2] + self._line_ending

    def bodies(self, rows: Iterable[Row], *, start: int = 0) -> Iterator[EncodedBody]:
        """Upload bodies for ``rows`` (each a sequence of values in field order).

        Rows are written a block at a time: a block that fits in the open body
        whole (the common case) costs one ``writerows`` call; the block that
        reaches a limit is written row by row to cut the body exactly there.
        """
        body = _OpenBody(self._header(), start)
        if isinstance(rows, BlockRows):
            take = rows.take
            exact = rows.exact_width
        else:
            exact = False
            source = iter(rows)

            def take(count: int) -> list[Row]:
                return list(itertools.islice(source, count))

        number = start
        key = self._key
        while True:
            room = self._max_records - body.rows
            if room <= 0:
                yield body.close()
                body = body.next(number)
                continue
            block = take(min(_BLOCK, room))
            if not block:
                break
            text, block, columns = self._block_text(block, number, exact)
            try:
                fits = body.fits(text, self._max_chars, self._max_bytes)
            except UnicodeEncodeError:
                raise self._not_utf8(block, number) from None
            if fits:
                if key is None:
                    keys = []
                elif columns is not None:
                    keys = list(columns[key])
                else:
                    keys = [str(r[key]) for r in block]
                body.add(text, len(block), keys)
                number += len(block)
                continue
            if columns is not None:  # written plain: check the rows to cut them one by one
                block = self._checked(block, number)
            for row in block:  # the block that reaches a limit: row by row
                text = self._render((row,))
                try:
                    alone = body.fits_alone(text, self._max_chars, self._max_bytes)
                except UnicodeEncodeError:
                    raise self._not_utf8([row], number) from None
                if not alone:
                    raise self._too_big(number, text, body)
                if body.rows >= self._max_records or not body.fits(
                    text, self._max_chars, self._max_bytes
                ):
                    yield body.close()
                    body = body.next(number)
                body.add(text, 1, [str(row[key])] if key is not None else [])
                number += 1
        if body.rows:
            yield body.close()

    def _not_utf8(self, block: Sequence[Row], number: int) -> InvalidInputError:
        """The error naming the first value of ``block`` (rows ``number`` on) that UTF-8
        cannot encode (a lone surrogate, such as ``"\\ud800"``)."""
        for offset, row in enumerate(block):
            for name, value in zip(self.fields, row, strict=False):
                text = value if isinstance(value, str) else None
                if text is not None and not _encodable(text):
                    return InvalidInputError(
                        f"row {number + offset + 1}, field {name!r}: the text holds a lone "
                        "surrogate code point, which UTF-8 cannot encode"
                    )
        return InvalidInputError(f"rows from {number + 1} on hold text UTF-8 cannot encode")

    def _too_big(self, number: int, text: str, body: _OpenBody) -> InvalidInputError:
        chars = len(text) + len(body.header)
        if chars > self._max_chars:
            return InvalidInputError(
                f"row {number + 1} does not fit in a {self._unit} even on its own: with the "
                f"header it is {chars:,} characters, and a {self._unit} holds at most "
                f"{self._max_chars:,}"
            )
        size = len(text.encode("utf-8")) + body.header_bytes
        return InvalidInputError(
            f"row {number + 1} does not fit in a {self._unit} even on its own: with the header "
            f"it is {size:,} bytes, and a {self._unit} holds at most {self._max_bytes:,}"
        )


class RepeatedKeyError(InvalidInputError):
    """Two rows of one Bulk 2.0 job share the key its outcomes are joined by."""


def check_join_keys(keys: Sequence[str], first_row: int, name: str) -> None:
    """Refuse join keys that repeat within one job (``first_row``: the 0-based row of
    ``keys[0]``): a Bulk 2.0 job's results come back in no set order and are tied
    to input rows by this key alone (spec §9), so two rows sharing one could not
    be told apart."""
    if len(set(keys)) == len(keys):
        return
    seen: dict[str, int] = {}
    for row, value in enumerate(keys, first_row + 1):
        if value in seen:
            raise RepeatedKeyError(
                f"rows {seen[value]} and {row} have the same {name!r} ({value!r}): Bulk 2.0 "
                "ties outcomes to input rows by it, so the two could not be told apart; "
                "send them in separate loads, or use api='bulk1' (which ties them by position)"
            )
        seen[value] = row


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _size(text: str) -> int:
    """The UTF-8 size of ``text`` (its length when ASCII, which ``isascii`` knows at once)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class _OpenBody:
    """The body being filled: its header, its pieces of text and what they measure."""

    __slots__ = ("bytes", "chars", "first", "header", "header_bytes", "keys", "parts", "rows")

    def __init__(self, header: str, first: int) -> None:
        self.header = header
        self.header_bytes = _size(header)
        self.first = first
        self.parts: list[str] = [header]
        self.chars = len(header)
        self.bytes = self.header_bytes
        self.rows = 0
        self.keys: list[str] = []

    def fits(self, text: str, max_chars: int, max_bytes: int) -> bool:
        return self.chars + len(text) <= max_chars and self.bytes + _size(text) <= max_bytes

    def fits_alone(self, text: str, max_chars: int, max_bytes: int) -> bool:
        return (
            len(self.header) + len(text) <= max_chars
            and self.header_bytes + _size(text) <= max_bytes
        )

    def add(self, text: str, rows: int, keys: list[str]) -> None:
        self.parts.append(text)
        self.chars += len(text)
        self.bytes += _size(text)
        self.rows += rows
        self.keys.extend(keys)

    def close(self) -> EncodedBody:
        data = "".join(self.parts).encode("utf-8")
        return EncodedBody(data, self.first, self.rows, self.keys, encoded=True)

    def next(self, first: int) -> _OpenBody:
        return _OpenBody(self.header, first)

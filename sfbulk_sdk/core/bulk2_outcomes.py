"""Bulk API 2.0 ingest results read into a load's columns, a block of rows at a time (sans-IO).

A job's ``successfulResults/``, ``failedResults/`` and ``unprocessedrecords/``
files are streamed (:class:`ResultRows`, a reader of
:func:`~sfbulk_sdk.core.flow.exchange`) as lists of values, never as one dict
per row: each block of complete records is parsed by one :mod:`csv` pass, and
the join to input rows and the writing of the outcomes work on whole columns.
An insert's successful records (the bulk of a big load) take a few C-level
passes per block: the ids and created flags go straight into
:class:`~sfbulk_sdk.core.outcomes.LoadResult`'s packed columns. Failed and
unprocessed records, and loads joined by key (``Id`` or an external id), are
looked at row by row.

A dropped connection repeats the request, and the rows already taken are
skipped (the result files are served whole, in the same order, every time).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from ..errors import ProtocolError
from .decoders import MAX_RECORD_CHARS, _record_end
from .flow import DECODE_SLICE, Flow, ReadBody, ReadChunk, perform
from .outcomes import LOCK_ERRORS, LoadResult

__all__ = ["JobRows", "Joiner", "ResultRows", "appender", "outcome_sink"]

#: Why a record of a job that ended normally was not processed.
UNPROCESSED = "NOT_PROCESSED:the job ended before this record was processed:"

#: A block of result rows: each as wide as the header, or (see ``lead``) its first two values.
Rows = Sequence[Sequence[str]]
#: Takes a result file's header and a block of its rows.
RowSink = Callable[[list[str], Rows], None]
#: The columns a successful result file starts with.
_LEAD = ["sf__Id", "sf__Created"]
_QUOTES = operator.methodcaller("count", '"')


@dataclass
class JobRows:
    """A Bulk 2.0 job of a load and the input rows it carries."""

    job_id: str
    #: The input row of each of the job's records, in upload order (a ``range``
    #: for a job of fresh rows, a list for a job of re-submitted ones).
    rows: Sequence[int]
    #: The join column's value of each record (empty for an insert).
    keys: list[str]


class _Rows:
    """Incremental CSV rows: UTF-8 pieces in, blocks of whole records out."""

    def __init__(self, delimiter: str, take: RowSink, skip: int, lead: bool) -> None:
        mark = re.escape(delimiter)
        pattern = rf'\n"([^"\r\n]*)"{mark}"(true|false)"(?={mark}|\r?\n)'
        self._pair = re.compile(pattern) if lead else None
        self._utf8 = codecs.getincrementaldecoder("utf-8-sig")()
        self._delimiter = delimiter
        self._take = take
        self._skip = skip
        self._tail = ""
        self._header: list[str] | None = None
        self.taken = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            text = self._tail + self._utf8.decode(data, final)
        except UnicodeDecodeError:
            raise ProtocolError("a Bulk 2.0 result file that is not UTF-8") from None
        cut = len(text) if final else _record_end(text)
        self._tail = text[cut:]
        if len(self._tail) > MAX_RECORD_CHARS:
            raise ProtocolError(
                f"a Bulk 2.0 result record runs past {MAX_RECORD_CHARS:,} characters without "
                "ending: no record is that long"
            )
        if final and text.count('"') % 2:
            raise ProtocolError("a Bulk 2.0 result file ends inside a quoted value")
        if cut:
            self._parse(text[:cut])

    def _parse(self, text: str) -> None:
        rows = self._leading(text) if self._header and self._header[:2] == _LEAD else None
        if rows is None:
            rows = self._csv(text)
        if self._skip:
            dropped = min(self._skip, len(rows))
            rows = rows[dropped:]
            self._skip -= dropped
        if rows:
            self.taken += len(rows)
            self._take(self._header or [], rows)

    def _leading(self, text: str) -> Rows | None:
        """Only ``sf__Id`` and ``sf__Created`` of each record, read without csv when every
        line of ``text`` is one record that starts with both, quoted (the file as
        Salesforce writes it); ``None`` otherwise (or when more columns are wanted).

        A line holding an odd number of quotes would be part of a value spanning
        lines: then, or when any line does not start with the two values, csv reads
        the block. Each step is one C-level pass over the block (the expression
        jumps from line start to line start); the echoed upload columns after the
        two values are not looked at.
        """
        if self._pair is None or not text.endswith("\n"):
            return None
        lines = text.split("\n")
        lines.pop()  # after the last line break
        if any(count & 1 for count in set(map(_QUOTES, lines))):
            return None
        found: Rows = self._pair.findall("\n" + text)  # each match starts a line
        return found if len(found) == len(lines) else None

    def _csv(self, text: str) -> Rows:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter, strict=True)
        try:
            if self._header is None:
                self._header = next(reader, None)
                if self._header and any("<" in name or ">" in name for name in self._header):
                    # no field name holds either: an HTML or XML page sent as CSV
                    raise ProtocolError("a Bulk 2.0 result file whose header is markup")
            rows = list(reader)
        except csv.Error as exc:
            raise ProtocolError(f"a malformed Bulk 2.0 result file: {exc}") from None
        header = self._header or []
        if set(map(len, rows)) - {len(header)}:
            rows = [row for row in rows if row]  # blank lines are no records
            if any(len(row) != len(header) for row in rows):
                raise ProtocolError("a Bulk 2.0 result row is not as wide as the header")
        return rows


class ResultRows:
    """A reader of one result file that hands blocks of rows to ``take``, resumable.

    ``delivered`` counts the rows already taken; a repeated request skips them.
    A 204 reply (or an empty body) holds no rows. With ``lead``, ``take`` needs
    only ``sf__Id`` and ``sf__Created`` and may get rows of just those two.
    """

    streams = True

    def __init__(
        self,
        check: Callable[[httpx.Response], object],
        delimiter: str,
        take: RowSink,
        *,
        lead: bool = False,
    ) -> None:
        self._check = check
        self._delimiter = delimiter
        self._take = take
        self._lead = lead
        self.delivered = 0

    def read(self, response: httpx.Response) -> Flow[int]:
        self._check(response)
        if response.status_code == 204:
            yield from perform(ReadBody(response))
            return self.delivered
        rows = _Rows(self._delimiter, self._take, self.delivered, self._lead)
        try:
            while chunk := (yield from perform(ReadChunk(response))):
                # a decompressed chunk can be megabytes: parsed a slice at a time
                for start in range(0, len(chunk), DECODE_SLICE):
                    rows.feed(chunk[start : start + DECODE_SLICE])
            rows.feed(b"", final=True)
        finally:
            self.delivered += rows.taken
        return self.delivered


def _column(header: list[str], name: str) -> int | None:
    return header.index(name) if name in header else None


def _check_lead(kind: str, header: list[str]) -> None:
    """A successful-results file must say each record's id and whether it was created."""
    if kind == "successful" and not set(_LEAD) <= set(header):
        raise ProtocolError(
            "a Bulk 2.0 successful-results file without its sf__Id and sf__Created columns"
        )


def _values(rows: Rows, at: int | None) -> list[str]:
    return list(map(operator.itemgetter(at), rows)) if at is not None else [""] * len(rows)


class Joiner:
    """Ties result rows to input rows: by key, or (insert) in arrival order per job.

    Keys are joined within their job (the same key may come back from another
    job of the load: a lock re-submit, or a record repeated across jobs); each
    input row takes at most one result row, and a result row whose key the job
    did not send, or sent once and was already answered, joins no row.
    """

    def __init__(self, jobs: Sequence[JobRows], key_column: str | None) -> None:
        self.key = key_column
        self._by_key: dict[str, dict[str, int]] = {}
        self._next: dict[str, int] = {}
        #: Per job, the waiting keys written as numbers, by value (built on first need).
        self._numbers: dict[str, dict[float, list[str]]] = {}
        for job in jobs:
            self._next[job.job_id] = 0
            if key_column is not None:
                self._by_key[job.job_id] = dict(zip(job.keys, job.rows, strict=False))

    def rows(self, job: JobRows, header: list[str], block: Rows) -> Sequence[int | None]:
        """The input row of each result row (``None`` for one the job did not send)."""
        if self.key is None:
            start = self._next[job.job_id]
            taken = job.rows[start : start + len(block)]
            self._next[job.job_id] = start + len(taken)
            if len(taken) == len(block):
                return taken
            return [*taken, *[None] * (len(block) - len(taken))]
        at = _column(header, self.key)
        if at is None:  # a file without the join column: nothing to join by
            return [None] * len(block)
        waiting = self._by_key[job.job_id]
        values = _values(block, at)
        found = [waiting.pop(value, None) for value in values]
        if None in found:
            for place, value in enumerate(values):
                if found[place] is None:
                    found[place] = self._as_number(job.job_id, value)
        return found

    def _as_number(self, job_id: str, echoed: str) -> int | None:
        """The row of a number key echoed in another form than it was sent.

        Result files re-render numbers (``7`` comes back ``7.0``, ``912260031``
        as ``9.12260031E8``; spec §7 #12), so a key of a number field that found
        no exact match is looked up by its value (as a double, the form the echo
        renders) among the job's keys still waiting.
        """
        number = _number(echoed)
        if number is None:
            return None
        waiting = self._by_key[job_id]
        index = self._numbers.get(job_id)
        if index is None:
            index = self._numbers[job_id] = {}
            for key in waiting:
                value = _number(key)
                if value is not None:
                    index.setdefault(value, []).append(key)
        keys = index.get(number, [])
        while keys:
            key = keys.pop(0)
            if key in waiting:
                return waiting.pop(key)
        return None


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str) -> float | None:
    """``text`` as a finite double when it is written as a decimal number, else ``None``."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def outcome_sink(
    kind: str,
    job: JobRows,
    joiner: Joiner,
    result: LoadResult,
    fields: Sequence[str],
    locked: dict[int, list[str]],
    unprocessed: str,
) -> RowSink:
    """Where one result file's rows go: into ``result``, joined by ``joiner``.

    The uploaded values of a row that failed on a lock go to ``locked`` (in
    ``fields`` order, as the failed results echo them).
    """

    def take(header: list[str], block: Rows) -> None:
        _check_lead(kind, header)
        rows = joiner.rows(job, header, block)
        ids = _values(block, _column(header, "sf__Id"))
        if kind == "successful":
            created = _values(block, _column(header, "sf__Created"))
            if isinstance(rows, range):  # fresh rows in arrival order: whole columns at once
                result.succeed_block(rows.start, ids, bytes(map("true".__eq__, created)))
                return
            for row, ident, new in zip(rows, ids, created, strict=True):
                if row is not None:
                    result.record(row, ident, True, new == "true", "")
            return
        at = _column(header, "sf__Error")
        if kind != "failed":
            errors = [unprocessed] * len(block)
        elif at is None:
            errors = ["UNKNOWN_ERROR:no error given:"] * len(block)
        else:
            errors = _values(block, at)
        places = [_column(header, name) for name in fields]
        for row, ident, text, values in zip(rows, ids, errors, block, strict=True):
            if row is None:
                continue
            result.record(row, ident, False, False, text)
            if text.split(":", 1)[0] in LOCK_ERRORS:
                locked[row] = [values[at] if at is not None else "" for at in places]

    return take


def appender(kind: str, result: LoadResult) -> RowSink:
    """Rows of a re-attached job's result file, added as the result's next rows."""

    def take(header: list[str], block: Rows) -> None:
        _check_lead(kind, header)
        first = result.grow(len(block))
        ids = _values(block, _column(header, "sf__Id"))
        if kind == "successful":
            created = _values(block, _column(header, "sf__Created"))
            result.succeed_block(first, ids, bytes(map("true".__eq__, created)))
            return
        at = _column(header, "sf__Error")
        errors = _values(block, at) if kind == "failed" and at is not None else None
        for offset, ident in enumerate(ids):
            text = errors[offset] if errors is not None else UNPROCESSED
            result.record(first + offset, ident, False, False, text)

    return take

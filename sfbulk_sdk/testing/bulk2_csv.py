"""Bulk API 2.0 CSV in the fake org: the job's line ending, and result files out.

Uploaded data is read with the job's ``columnDelimiter`` by the same strict
reader as Bulk 1.0 batches (:class:`~sfbulk_sdk.testing.formats.CsvUpload`);
this module adds what only Bulk 2.0 has:

* :func:`check_line_ending`: data whose records end otherwise than the job's
  ``lineEnding`` fails the job (``ClientInputError : LineEnding is invalid on
  user data. Current LineEnding setting is LF``), line breaks inside quoted
  values excepted;
* :func:`raw_header`: the header cells exactly as uploaded (quoted or not),
  which result files echo;
* :func:`quoted_line`: one result line with every value quoted, in the job's
  delimiter (the usual value, holding no quote, costs one join);
* :class:`RenderedRows`: result rows rendered once into bytes, with where
  each row starts, so that any page of them is one slice (a query's results
  are rendered when the job completes, never per request);
* :func:`shuffled`: the seeded reordering of result rows (Salesforce does not
  keep the upload order, spec §9, so no client may depend on it).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, islice
from typing import TypeVar

from ..models.bulk2 import LineEnding
from .formats import BatchFailure, quote_cell

__all__ = ["RenderedRows", "check_line_ending", "quoted_line", "raw_header", "shuffled"]

ItemT = TypeVar("ItemT")


def _outside_quotes(body: str) -> Iterator[str]:
    """The stretches of ``body`` that lie outside quoted values."""
    find = body.find
    pos = 0
    while True:
        quote = find('"', pos)
        if quote < 0:
            yield body[pos:]
            return
        yield body[pos:quote]
        close = find('"', quote + 1)
        while close >= 0 and body.startswith('"', close + 1):  # an escaped ""
            close = find('"', close + 2)
        if close < 0:
            return  # a quote left open: the CSV reader reports it
        pos = close + 1


def _mismatch(body: str, ending: LineEnding) -> bool:
    if ending is LineEnding.LF:
        if "\r\n" not in body:
            return False  # the usual case costs one scan
        return any("\r\n" in part for part in _outside_quotes(body))
    if body.count("\n") == body.count("\r\n"):
        return False
    return any(part.count("\n") != part.count("\r\n") for part in _outside_quotes(body))


def check_line_ending(body: str, ending: LineEnding) -> None:
    """Fail the job when records end with another line ending than the job's."""
    if _mismatch(body, ending):
        raise BatchFailure(
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding "
            f"setting is {ending.value}"
        )


def raw_header(body: str, delimiter: str) -> list[str]:
    """The header cells as uploaded, quotes included (``Name``, ``"Name"``)."""
    end = body.find("\n")
    line = body if end < 0 else body[:end]
    if '"' not in line:
        return line.rstrip("\r").split(delimiter)
    cells: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(body):
        char = body[i]
        if quoted:
            current.append(char)
            if char == '"':
                if body.startswith('"', i + 1):
                    current.append('"')
                    i += 1
                else:
                    quoted = False
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == delimiter:
            cells.append("".join(current))
            current = []
        elif char in "\r\n":
            break
        else:
            current.append(char)
        i += 1
    cells.append("".join(current))
    return cells


def quoted_line(cells: Sequence[str], delimiter: str) -> str:
    """``cells`` each in double quotes (inner quotes doubled), joined by ``delimiter``."""
    sep = f'"{delimiter}"'
    joined = sep.join(cells)
    if joined.count('"') == 2 * len(cells) - 2:  # no value holds a quote (none is a delimiter)
        return f'"{joined}"'
    return delimiter.join(map(quote_cell, cells))


#: Rows rendered and encoded together (bounds the text held at once).
_CHUNK_ROWS = 10_000


class RenderedRows:
    """A result file rendered once: its header line, every row's line, where each starts.

    :meth:`page` answers any run of rows with one slice of the encoded body, so
    serving a page costs no rendering (and the rows themselves need not be kept).
    """

    __slots__ = ("_body", "_header", "_starts")

    def __init__(self, header: str, lines: Iterable[str]) -> None:
        self._header = header.encode()
        self._starts = array("q", [0])
        parts: list[bytes] = []
        end = 0
        lines = iter(lines)
        while chunk := list(islice(lines, _CHUNK_ROWS)):
            text = "".join(chunk)
            data = text.encode()
            ascii_only = len(data) == len(text)
            sizes = map(len, chunk) if ascii_only else (len(line.encode()) for line in chunk)
            self._starts.extend(islice(accumulate(sizes, initial=end), 1, None))
            end += len(data)
            parts.append(data)
        self._body = b"".join(parts)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __repr__(self) -> str:
        return f"RenderedRows(rows={len(self)}, bytes={len(self._body)})"

    def page(self, start: int, stop: int) -> bytes:
        """The header and rows ``start:stop`` (clamped to the rows there are)."""
        count = len(self)
        start, stop = min(max(start, 0), count), min(max(stop, 0), count)
        starts = self._starts
        return self._header + self._body[starts[start] : starts[max(start, stop)]]

    def whole(self) -> bytes:
        """The header and every row."""
        return self._header + self._body


def shuffled(items: Sequence[ItemT], seed: int) -> list[ItemT]:
    """``items`` in an order drawn from ``seed`` (the same seed, the same order)."""
    order = list(items)
    random.Random(seed).shuffle(order)
    return order

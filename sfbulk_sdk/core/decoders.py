"""Query result files decoded record by record as their bytes arrive (sans-IO).

Bulk API 1.0 query results come as CSV, JSON or XML; each decoder is fed the
body in pieces of any size and returns the records completed so far, so that
memory stays bounded by one network chunk however large the file. The same
decoders serve the sync and the async client (see
:class:`~sfbulk_sdk.core.flow.RecordStream`).

Every decoder refuses what is not a result file of its format with
``ValueError``; the XML decoder also refuses a document type declaration, so
no entity is ever expanded.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from xml.etree import ElementTree

from ..models.base import JsonValue
from ..models.xml import NS, XSI_NS

__all__ = [
    "CsvRecordDecoder",
    "JsonRecordDecoder",
    "QueryRecord",
    "RecordDecoder",
    "XmlRecordDecoder",
    "decode_records",
    "record_decoder",
]

#: One record of a query result: field name to value (CSV values are strings;
#: JSON and XML keep nesting for relationship fields).
QueryRecord = dict[str, JsonValue]

_CSV_MEDIA = "text/csv"


class RecordDecoder:
    """Incrementally decode the records of one query result file.

    Feed it the body's bytes as they arrive (:meth:`feed`) and call
    :meth:`close` at the end; both return the records completed so far, and
    both raise ``ValueError`` for a body that is not a result file of the
    format. The same decoder serves the sync and the async client.
    """

    def feed(self, data: bytes) -> list[QueryRecord]:
        raise NotImplementedError

    def close(self) -> list[QueryRecord]:
        raise NotImplementedError


class CsvRecordDecoder(RecordDecoder):
    """CSV results: one dict per row, keyed by the header (values are strings).

    A record ends at a line break outside quotes, so quoted multi-line values
    stay whole however the body is chunked. Each chunk's complete records are
    parsed in one pass of :mod:`csv` (C speed); only the unfinished tail waits
    for the next chunk. ``delimiter`` is the column separator (Bulk 2.0 jobs
    may use ``` ` ^ | ; ``` or a tab).
    """

    def __init__(self, delimiter: str = ",") -> None:
        self._text = codecs.getincrementaldecoder("utf-8-sig")()
        self._tail = ""
        self._delimiter = delimiter
        self._header: list[str] | None = None

    def _rows(self, text: str) -> list[QueryRecord]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter)
        records: list[QueryRecord] = []
        append = records.append
        try:
            if self._header is None:
                self._header = next(reader, None)
            header = self._header or []
            width = len(header)
            for row in reader:
                if len(row) != width:
                    if not row:
                        continue
                    # zip() would drop the difference silently
                    raise ValueError(
                        f"a CSV result row has {len(row)} values; the header has {width}"
                    )
                append(dict(zip(header, row, strict=False)))  # widths checked above
        except csv.Error as exc:  # not a ValueError: callers expect one
            raise ValueError(f"malformed CSV result: {exc}") from None
        return records

    def _take(self, text: str, final: bool) -> list[QueryRecord]:
        text = self._tail + text
        if final:
            self._tail = ""
            if text.count('"') % 2:
                raise ValueError("CSV result ended inside a quoted value")
            return self._rows(text) if text else []
        cut = _record_end(text)
        self._tail = text[cut:]
        return self._rows(text[:cut]) if cut else []

    def feed(self, data: bytes) -> list[QueryRecord]:
        return self._take(self._text.decode(data), final=False)

    def close(self) -> list[QueryRecord]:
        return self._take(self._text.decode(b"", final=True), final=True)


def _record_end(text: str) -> int:
    """Where the last complete record of ``text`` ends (0 when none has ended yet).

    A line break ends a record when the quotes before it are balanced: ``""``
    inside a quoted value counts twice, so parity is exact.
    """
    end = text.rfind("\n") + 1
    quotes = text.count('"', 0, end)
    while end:
        if quotes % 2 == 0:
            return end
        start = text.rfind("\n", 0, end - 1) + 1
        quotes -= text.count('"', start, end)
        end = start
    return 0


class JsonRecordDecoder(RecordDecoder):
    """JSON results: the elements of one top-level array, decoded as they complete."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8-sig")()
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._started = False
        self._done = False

    def _take(self, text: str) -> list[QueryRecord]:
        buf = self._buffer + text
        pos = 0
        out: list[QueryRecord] = []
        while not self._done:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(buf):
                break
            if not self._started:
                if buf[pos] != "[":
                    raise ValueError("JSON query results must be an array")
                self._started = True
                pos += 1
                continue
            if buf[pos] == "]":
                self._done = True
                pos += 1
                break
            try:
                value, end = self._decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                break  # an incomplete element: wait for more
            out.append(value)
            pos = end
        self._buffer = buf[pos:]
        return out

    def feed(self, data: bytes) -> list[QueryRecord]:
        return self._take(self._text.decode(data))

    def close(self) -> list[QueryRecord]:
        out = self._take(self._text.decode(b"", final=True))
        if not self._done or self._buffer.strip():
            raise ValueError("JSON query results ended early")
        return out


def _xml_value(elem: ElementTree.Element) -> JsonValue:
    if elem.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    if len(elem):
        return {child.tag.rsplit("}", 1)[-1]: _xml_value(child) for child in elem}
    return elem.text or ""


class XmlRecordDecoder(RecordDecoder):
    """XML ``queryResult`` files: each ``records`` element as a dict.

    The ``type`` child becomes ``attributes.type``; the second ``Id`` that
    Salesforce repeats for a queried Id is dropped; ``xsi:nil`` becomes ``None``.
    Each record is detached from the document once decoded, so memory stays
    bounded by one chunk however many records the file holds.
    """

    _TAG = f"{{{NS}}}records"

    def __init__(self) -> None:
        self._parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
            events=("start", "end")
        )
        self._root: ElementTree.Element | None = None

    def _drain(self) -> list[QueryRecord]:
        out: list[QueryRecord] = []
        for event, elem in self._parser.read_events():  # type: ignore[misc]
            if not isinstance(elem, ElementTree.Element):
                continue
            if event == "start":
                if self._root is None:
                    self._root = elem  # <queryResult>
                continue
            if elem.tag != self._TAG:
                continue
            record: QueryRecord = {}
            for child in elem:
                name = child.tag.rsplit("}", 1)[-1]
                if name == "type":
                    record.setdefault("attributes", {"type": child.text})
                elif name == "Id" and "Id" in record:
                    continue
                else:
                    record[name] = _xml_value(child)
            elem.clear()
            if self._root is not None and self._root is not elem:
                # Clearing a record still leaves it attached to the root, one
                # empty element per record; detach the decoded records.
                self._root.clear()
            out.append(record)
        return out

    def feed(self, data: bytes) -> list[QueryRecord]:
        try:
            self._parser.feed(data)
        except ElementTree.ParseError as exc:  # a SyntaxError, not a ValueError
            raise ValueError(f"malformed XML result: {exc}") from None
        return self._drain()

    def close(self) -> list[QueryRecord]:
        try:
            self._parser.close()
        except ElementTree.ParseError as exc:
            raise ValueError(f"malformed XML result: {exc}") from None
        return self._drain()


def record_decoder(media_type: str, *, delimiter: str = ",") -> RecordDecoder:
    """The decoder for a result file's ``Content-Type`` (CSV, JSON or XML)."""
    media = media_type.split(";", 1)[0].strip().lower()
    if media == _CSV_MEDIA:
        return CsvRecordDecoder(delimiter)
    if media.endswith("json"):
        return JsonRecordDecoder()
    return XmlRecordDecoder()


def decode_records(media_type: str, chunks: Iterable[bytes]) -> Iterator[QueryRecord]:
    """All records of a result body given as byte chunks (sync convenience)."""
    decoder = record_decoder(media_type)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()

"""Query result files decoded record by record as their bytes arrive (sans-IO).

Bulk API 1.0 query results come as CSV, JSON or XML; each decoder is fed the
body in pieces of any size and returns the records completed so far, so that
memory stays bounded by one network chunk however large the file. The same
decoders serve the sync and the async client (see
:class:`~sfbulk_sdk.core.flow.RecordStream`).

Every decoder refuses what is not a result file of its format with
:class:`~sfbulk_sdk.errors.MalformedReplyError` (a ``ValueError``, carrying a
masked excerpt of the body's start) and nothing else: bytes that are not
UTF-8, malformed CSV or a row of the wrong width, JSON that is not an array of
objects or is nested too deeply, XML that is not a ``queryResult`` document.
The XML decoder runs on the SDK's hardened expat parser
(:func:`~sfbulk_sdk.models.xml.new_parser`): a document type declaration or an
entity is refused (:class:`~sfbulk_sdk.errors.UnsafeXmlError`) before
anything is expanded. Records are the same whatever the chunk boundaries.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator

from .._redact import body_excerpt
from ..errors import MalformedReplyError, MalformedXmlError
from ..models.base import JsonValue
from ..models.xml import MAX_DEPTH, NS, SEP, XSI_NS, feed_xml, new_parser

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
#: Bytes of the body's start kept for the excerpt of an error.
_HEAD_BYTES = 1024
#: The longest record a streamed result may hold while it is unfinished (characters).
#: An object holds at most 1,638,400 characters of long text; quoted, with its other
#: fields, a record stays well under this. An unfinished one past it is refused at
#: once, not kept growing (memory) and re-scanned with every chunk (time).
MAX_RECORD_CHARS = 8_000_000


@functools.lru_cache(maxsize=64)
def record_builder(header: tuple[str, ...]) -> Callable[[list[str]], QueryRecord]:
    """A function that makes one record (a dict keyed by ``header``) from one row of values.

    It is ``lambda row: {header[0]: row[0], header[1]: row[1], ...}`` with the
    names written in as string literals: a dict display is built in one step,
    about 40 % cheaper than ``dict(zip(header, row))``, which matters at a
    million rows. The source holds nothing but ``repr()`` of each name (a
    ``str``'s repr is always a plain string literal) and subscripts, so no
    text from the server can become code; a repeated name keeps its last
    value, as ``dict(zip(...))`` does. A row of another width than the header is
    refused (a ``MalformedReplyError``), never cut or padded. The builders of
    recent headers are kept, so a chunk does not compile one.
    """
    if not all(type(name) is str for name in header):
        raise TypeError("a record header holds only str names")
    pairs = ", ".join(f"{name!r}: row[{i}]" for i, name in enumerate(header))
    source = f"lambda row: {{{pairs}}} if len(row) == {len(header)} else ragged(row)"
    build: Callable[[list[str]], QueryRecord] = eval(source, {"ragged": _ragged})  # noqa: S307
    return build


class _RaggedRowError(MalformedReplyError):
    """A row of another width than its header, met by a :func:`record_builder` function."""


def _ragged(row: list[str]) -> QueryRecord:
    raise _RaggedRowError(f"a row has {len(row)} values")


class RecordDecoder:
    """Incrementally decode the records of one query result file.

    Feed it the body's bytes as they arrive (:meth:`feed`) and call
    :meth:`close` at the end; both return the records completed so far, and
    both raise :class:`~sfbulk_sdk.errors.MalformedReplyError` (a
    ``ValueError``) for a body that is not a result file of the format. The
    same decoder serves the sync and the async client.
    """

    _head = b""

    def feed(self, data: bytes) -> list[QueryRecord]:
        raise NotImplementedError

    def close(self) -> list[QueryRecord]:
        raise NotImplementedError

    def _keep_head(self, data: bytes) -> None:
        if len(self._head) < _HEAD_BYTES:
            self._head += bytes(data[: _HEAD_BYTES - len(self._head)])

    def _refuse(self, message: str) -> MalformedReplyError:
        return MalformedReplyError(message, excerpt=body_excerpt(self._head))


class _Utf8:
    """An incremental UTF-8 decoder (a leading byte-order mark dropped) that raises SDK errors.

    Only the bytes of a character cut by a chunk boundary are kept between
    calls, so a chunk is decoded in place, without being copied first.
    """

    def __init__(self, owner: RecordDecoder) -> None:
        self._owner = owner
        self._pending = b""  # the start of a character cut by the chunk boundary
        self._offset = 0  # bytes decoded so far (for the error's position)
        self._started = False  # whether any text came yet (a BOM only leads)

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._pending:
            data = self._pending + data
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            at = self._offset + exc.start
            raise self._owner._refuse(f"the result body is not UTF-8 (byte {at:,})") from None
        self._pending = bytes(data[used:]) if used < len(data) else b""
        self._offset += used
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        return text


class CsvRecordDecoder(RecordDecoder):
    """CSV results: one dict per row, keyed by the header (values are strings).

    A record ends at a line break outside quotes, so quoted multi-line values
    stay whole however the body is chunked. Each chunk's complete records are
    decoded at C speed in one pass; only the unfinished tail waits for the
    next chunk. Salesforce quotes every value: a chunk whose quotes all
    delimit values (:meth:`_quoted_rows` proves it by counting them) is split
    on its ``","`` and line separators; any other chunk is read with
    :mod:`csv` (strict quoting). Both give the same records. ``delimiter`` is
    the column separator (Bulk 2.0 jobs may use ``` ` ^ | ; ``` or a tab).
    """

    def __init__(self, delimiter: str = ",") -> None:
        self._text = _Utf8(self)
        self._tail = ""
        self._delimiter = delimiter
        self._between = f'"{delimiter}"'
        self._header: list[str] | None = None

    def _quoted_rows(self, text: str) -> list[QueryRecord] | None:
        """The records of ``text`` (whole records) when every value is quoted and holds
        no quote; ``None`` when that is not so (then :mod:`csv` reads it).

        ``text`` is split on the line separator between two quotes, and each line
        on the delimiter between two quotes. Every separator used holds two quotes
        (the first and last quote of ``text`` aside), so when ``text`` holds
        exactly ``2 x lines x width`` quotes and every line has ``width`` values,
        no value holds a quote, every value was quoted, and :mod:`csv` would read
        the very same rows. A line longer than csv's field size limit goes to
        :mod:`csv` too, which refuses a value over it.
        """
        header = self._header
        if not header or text[:1] != '"':
            return None
        if text.endswith('"\n'):
            if text.endswith('"\r\n'):
                lines = text[1:-3].split('"\r\n"')
            else:
                lines = text[1:-2].split('"\n"')
        else:
            return None
        width = len(header)
        if text.count('"') != 2 * width * len(lines):
            return None
        limit = csv.field_size_limit()
        if len(text) > limit and max(map(len, lines)) > limit:
            return None  # a value may be over the limit: csv refuses it
        rows = map(str.split, lines, itertools.repeat(self._between))
        try:
            # Each line's values die as soon as its record is built: a chunk's rows never
            # all live at once, so the garbage collector has no survivors to promote.
            return list(map(record_builder(tuple(header)), rows))
        except _RaggedRowError:  # csv reads the chunk, and names the row
            return None

    def _rows(self, text: str) -> list[QueryRecord]:
        # strict: a quote out of place is refused rather than read differently
        # depending on where a chunk ended.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter, strict=True)
        try:
            if self._header is None:
                self._header = next(reader, None)
                if self._header and any("<" in name or ">" in name for name in self._header):
                    # No field name holds either: an HTML or XML page sent as CSV.
                    raise self._refuse("the CSV result's header looks like markup, not fields")
            header = self._header or []
            rows = list(reader)
        except csv.Error as exc:  # not a ValueError: callers expect one
            raise self._refuse(f"malformed CSV result: {exc}") from None
        width = len(header)
        if set(map(len, rows)) - {width}:
            rows = self._whole(rows, width)
        # Widths checked above: every row has a value for every name.
        return list(map(record_builder(tuple(header)), rows))

    def _whole(self, rows: list[list[str]], width: int) -> list[list[str]]:
        """``rows`` without blank lines; a row of another width is refused."""
        kept = []
        for row in rows:
            if len(row) != width:
                if not row:
                    continue
                # zip() would drop the difference silently
                raise self._refuse(
                    f"a CSV result row has {len(row)} values; the header has {width}"
                )
            kept.append(row)
        return kept

    def _take(self, text: str, final: bool) -> list[QueryRecord]:
        if self._tail:
            text = self._tail + text
        if final:
            self._tail = ""
            if not text:
                return []
            quoted = self._quoted_rows(text)
            if quoted is not None:
                return quoted
            if text.count('"') % 2:
                raise self._refuse("CSV result ended inside a quoted value")
            return self._rows(text)
        cut = text.rfind("\n") + 1
        if cut:
            # Mostly the last line break ends a record: try the records before it.
            quoted = self._quoted_rows(text if cut == len(text) else text[:cut])
            if quoted is not None:
                self._tail = text[cut:]
                return quoted
            cut = _record_end(text)
        self._tail = text[cut:]
        if len(self._tail) > MAX_RECORD_CHARS:
            raise self._refuse(_too_long("CSV"))
        return self._rows(text[:cut]) if cut else []

    def feed(self, data: bytes) -> list[QueryRecord]:
        self._keep_head(data)
        return self._take(self._text.decode(data), final=False)

    def close(self) -> list[QueryRecord]:
        return self._take(self._text.decode(b"", final=True), final=True)


def _too_long(kind: str) -> str:
    return (
        f"a {kind} result record runs past {MAX_RECORD_CHARS:,} characters without ending: "
        "no record is that long"
    )


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


_SPACE = " \t\r\n"


class JsonRecordDecoder(RecordDecoder):
    """JSON results: the objects of one top-level array, decoded as they complete.

    The array's grammar is followed exactly (``[``, objects separated by
    commas, ``]``, then only white space); an element that is not an object,
    a value nested too deeply or anything after the array is refused.
    """

    def __init__(self) -> None:
        self._text = _Utf8(self)
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        # "start": before "["; "value": a value (or "]" when first) is due;
        # "next": "," or "]" is due; "done": after "]".
        self._state = "start"
        self._first = True

    def _take(self, text: str) -> list[QueryRecord]:
        buf = self._buffer + text
        pos = 0
        end = len(buf)
        out: list[QueryRecord] = []
        while True:
            while pos < end and buf[pos] in _SPACE:
                pos += 1
            if pos >= end:
                break
            char = buf[pos]
            if self._state == "done":
                raise self._refuse("JSON query results go on after their array")
            if self._state == "start":
                if char != "[":
                    raise self._refuse("JSON query results must be an array")
                self._state, pos = "value", pos + 1
                continue
            if self._state == "next":
                if char not in ",]":
                    raise self._refuse("JSON query results lack a comma between records")
                self._state = "value" if char == "," else "done"
                self._first = False
                pos += 1
                continue
            if char == "]" and self._first:
                self._state, pos = "done", pos + 1
                continue
            if char != "{":
                raise self._refuse("a JSON query result record must be an object")
            try:
                value, stop = self._decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                break  # an incomplete element: wait for more
            except RecursionError:
                raise self._refuse("a JSON query result record nests too deeply") from None
            out.append(value)
            self._state, self._first, pos = "next", False, stop
        self._buffer = buf[pos:]
        if len(self._buffer) > MAX_RECORD_CHARS:
            raise self._refuse(_too_long("JSON"))
        return out

    def feed(self, data: bytes) -> list[QueryRecord]:
        self._keep_head(data)
        return self._take(self._text.decode(data))

    def close(self) -> list[QueryRecord]:
        out = self._take(self._text.decode(b"", final=True))
        if self._state != "done" or self._buffer.strip(_SPACE):
            raise self._refuse("JSON query results ended early (or hold an invalid record)")
        return out


class _Element:
    """An open element below a record: its name, and its children or text so far."""

    __slots__ = ("children", "name", "nil", "text")

    def __init__(self, name: str, nil: bool) -> None:
        self.name = name
        self.nil = nil
        self.children: dict[str, JsonValue] | None = None
        self.text: list[str] = []


class XmlRecordDecoder(RecordDecoder):
    """XML ``queryResult`` files: each ``records`` element as a dict.

    The ``type`` child becomes ``attributes.type``; the second ``Id`` that
    Salesforce repeats for a queried Id is dropped; ``xsi:nil`` becomes
    ``None``; a relationship field becomes a dict of its children. Only the
    record being read is held, so memory stays bounded by one chunk however
    many records the file holds. The root must be ``queryResult`` in the
    dataload namespace (an HTML page from a proxy is refused).
    """

    _ROOT = f"{NS}{SEP}queryResult"
    _RECORD = f"{NS}{SEP}records"
    _NIL = f"{XSI_NS}{SEP}nil"

    def __init__(self) -> None:
        self._parser = new_parser()
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._data
        self._depth = 0
        self._root = False
        self._record: QueryRecord | None = None
        self._open: list[_Element] = []
        self._out: list[QueryRecord] = []

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise MalformedXmlError(f"the XML nests elements deeper than {MAX_DEPTH} levels")
        if self._depth == 1:
            if name != self._ROOT:
                local = name.rpartition(SEP)[2]
                raise MalformedXmlError(
                    f"XML query results are a <queryResult> document, not <{local[:60]}>"
                )
            self._root = True
        elif self._depth == 2:
            self._record = {} if name == self._RECORD else None
        elif self._record is not None:
            self._open.append(_Element(name.rpartition(SEP)[2], attrs.get(self._NIL) == "true"))

    def _data(self, text: str) -> None:
        if self._open:
            self._open[-1].text.append(text)

    def _end(self, _name: str) -> None:
        depth = self._depth
        self._depth -= 1
        record = self._record
        if record is None or depth < 2:
            return
        if depth == 2:
            self._out.append(record)
            self._record = None
            return
        elem = self._open.pop()
        value: JsonValue
        if elem.nil:
            value = None
        elif elem.children is not None:
            value = elem.children
        else:
            value = "".join(elem.text)
        if self._open:
            parent = self._open[-1]
            if parent.children is None:
                parent.children = {}
            parent.children[elem.name] = value
        elif elem.name == "type":
            if "attributes" not in record:
                text = "".join(elem.text) if elem.text else None
                record["attributes"] = {"type": text}
        elif elem.name != "Id" or "Id" not in record:
            record[elem.name] = value

    def _drain(self) -> list[QueryRecord]:
        out, self._out = self._out, []
        return out

    def feed(self, data: bytes) -> list[QueryRecord]:
        self._keep_head(data)
        feed_xml(self._parser, bytes(data), False, self._head)
        return self._drain()

    def close(self) -> list[QueryRecord]:
        feed_xml(self._parser, b"", True, self._head)
        return self._drain()


class _RefusedDecoder(RecordDecoder):
    """A result file of a media type the SDK does not read (an HTML page, plain text)."""

    def __init__(self, media_type: str) -> None:
        self._media = media_type

    def _fail(self) -> MalformedReplyError:
        return self._refuse(
            f"query results came as {self._media[:60] or 'no media type'}, not CSV, JSON or XML"
        )

    def feed(self, data: bytes) -> list[QueryRecord]:
        self._keep_head(data)
        raise self._fail()

    def close(self) -> list[QueryRecord]:
        raise self._fail()


def record_decoder(media_type: str, *, delimiter: str = ",") -> RecordDecoder:
    """The decoder for a result file's ``Content-Type`` (CSV, JSON or XML).

    Any other media type gives a decoder that refuses the body.
    """
    media = media_type.split(";", 1)[0].strip().lower()
    if media == _CSV_MEDIA:
        return CsvRecordDecoder(delimiter)
    if media.endswith("json"):
        return JsonRecordDecoder()
    if media.endswith(("/xml", "+xml")):
        return XmlRecordDecoder()
    return _RefusedDecoder(media)


def decode_records(media_type: str, chunks: Iterable[bytes]) -> Iterator[QueryRecord]:
    """All records of a result body given as byte chunks (sync convenience)."""
    decoder = record_decoder(media_type)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()

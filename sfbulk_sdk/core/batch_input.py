"""Checks of the data a batch or a Bulk 2.0 job uploads, made before anything is sent.

Each check reads the body once (one pass of :mod:`csv`, :mod:`json` or expat;
nothing quadratic: they run on every batch of a million-row load) and raises
:class:`~sfbulk_sdk.errors.InvalidInputError` for what Salesforce would only
refuse after the upload, or would silently load wrong:

* data that is not ``str`` or ``bytes`` (``bytes(12345)`` is 12,345 NUL bytes,
  not a batch), or bytes that are not UTF-8;
* a CSV row with more or fewer values than the header (the message names the
  row, 1-based with the header excluded, and the column), malformed quoting,
  or a header without any record;
* a JSON batch that is not a non-empty array of objects, or holds ``NaN`` or
  ``Infinity``;
* an XML batch that is not an ``sObjects`` document with at least one
  ``sObject`` (or that declares a DTD or an entity);
* more records than Salesforce takes in one batch (10,000);
* SOQL that is empty or not text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from typing import Any

from ..errors import InvalidInputError, MalformedXmlError
from ..models.enums import ContentType, Operation
from ..models.xml import MAX_DEPTH, NS, SEP, feed_xml, new_parser
from .csvbatch import MAX_BATCH_RECORDS

__all__ = [
    "CheckedCsv",
    "check_batch_data",
    "check_csv_records",
    "check_soql",
    "guess_delimiter",
    "to_bytes",
]

_SOQL_START = re.compile(rb"\s*select\s", re.IGNORECASE)
#: The column delimiters Bulk API 2.0 accepts; a field name never holds one.
_DELIMITERS = (",", "\t", ";", "|", "^", "`")


class CheckedCsv:
    """CSV the SDK wrote itself (:class:`~sfbulk_sdk.core.encode.RecordEncoder`): UTF-8,
    every row as wide as the header, within the limits it was asked for. The checks
    here pass it without reading it again (a million-row load would pay twice).

    It wraps the exact ``bytes`` (``data``) rather than being a ``bytes`` subclass:
    a subclass is copied by every ``bytes(...)``, ``strip()`` and ``b"".join`` on
    the way to the socket (three copies of a 100 MB Bulk 2.0 job).
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:  # the data is the caller's: never shown
        return f"CheckedCsv({len(self.data):,} bytes)"


def to_bytes(data: object, what: str = "batch data") -> bytes:
    """``data`` as the bytes to send: ``str`` is encoded as UTF-8, bytes are kept."""
    if isinstance(data, str):
        try:
            return data.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(f"the {what} holds text that is not valid Unicode") from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise InvalidInputError(
        f"the {what} must be str or bytes, not {type(data).__name__}"
        + (": bytes(n) would be n NUL bytes" if isinstance(data, int) else "")
    )


def _text(body: bytes, what: str) -> str:
    try:
        return codecs.decode(body, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"the {what} is not valid UTF-8 (byte {exc.start:,} cannot be decoded)"
        ) from None


def guess_delimiter(text: str) -> str:
    """The column delimiter of CSV ``text``, from its header line (``,`` by default).

    Field names never hold a delimiter character, so the first one that the
    header line holds is the delimiter; a header of one column gives ``,``.
    """
    header = text[: text.find("\n")] if "\n" in text else text
    found = [(header.find(d), d) for d in _DELIMITERS if d in header]
    return min(found)[1] if found else ","


def check_csv_records(text: str, *, delimiter: str = ",", what: str = "batch") -> int:
    """The number of records of CSV ``text``; raises for a ragged row or no record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    count = 0
    try:
        header = next(reader, None)
        while header is not None and not header:  # leading blank lines
            header = next(reader, None)
        if header is None:
            raise InvalidInputError(f"the {what} holds no CSV header and no record")
        width = len(header)
        for row in reader:
            if not row:  # a blank line is not a record
                continue
            count += 1
            if len(row) != width:
                raise InvalidInputError(_ragged(what, count, row, header, reader.line_num))
    except csv.Error as exc:
        raise InvalidInputError(
            f"the {what} is not well-formed CSV at line {reader.line_num:,} "
            f"(after record {count:,}): {exc}"
        ) from None
    if count == 0:
        raise InvalidInputError(f"the {what} holds a CSV header but no record")
    return count


def _ragged(what: str, row: int, values: list[str], header: list[str], line: int) -> str:
    where = f"row {row:,} of the {what} (line {line:,})"
    if len(values) > len(header):
        return (
            f"{where} has {len(values)} values but the header has {len(header)} columns: "
            f"column {len(header) + 1} has no header"
        )
    missing = header[len(values)]
    return (
        f"{where} has {len(values)} values but the header has {len(header)} columns: "
        f"column {len(values) + 1} ({missing[:80]!r}) is missing"
    )


def _refuse_constant(token: str) -> Any:
    raise InvalidInputError(
        f"the JSON batch holds {token}, which is not valid JSON and would make "
        "Salesforce fail the batch; send null (or leave the field out) instead"
    )


def _check_json_records(body: bytes) -> int:
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidInputError("the JSON batch nests values too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"the JSON batch is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except InvalidInputError:
        raise
    except ValueError:
        raise InvalidInputError("the JSON batch is not valid UTF-8 JSON") from None
    if not isinstance(document, list):
        raise InvalidInputError(
            f"a JSON batch must be an array of records, not a {type(document).__name__}"
        )
    if not document:
        raise InvalidInputError("the JSON batch holds no record (an empty array)")
    for row, record in enumerate(document, 1):
        if not isinstance(record, dict):
            raise InvalidInputError(
                f"record {row:,} of the JSON batch is a {type(record).__name__}, not an object"
            )
    return len(document)


class _SObjectCounter:
    """Counts the ``sObject`` children of an ``sObjects`` root, refusing other roots."""

    def __init__(self) -> None:
        self.depth = 0
        self.records = 0

    def start(self, name: str, _attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InvalidInputError(f"the XML batch nests elements deeper than {MAX_DEPTH} levels")
        local = name.rpartition(SEP)[2]
        if self.depth == 1 and name != f"{NS}{SEP}sObjects":
            raise InvalidInputError(
                f"an XML batch is an <sObjects> document in the dataload namespace, "
                f"not <{local[:60]}>"
            )
        if self.depth == 2 and local == "sObject":
            self.records += 1

    def end(self, _name: str) -> None:
        self.depth -= 1


def _check_xml_records(body: bytes) -> int:
    counter = _SObjectCounter()
    parser = new_parser()
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    try:
        feed_xml(parser, body, True)
    except MalformedXmlError as exc:
        raise InvalidInputError(f"the XML batch is refused: {exc}") from None
    if counter.records == 0:
        raise InvalidInputError("the XML batch holds no <sObject> record")
    return counter.records


def check_soql(data: object) -> bytes:
    """The SOQL of a query batch as bytes; refused when empty or not text."""
    if not isinstance(data, (str, bytes, bytearray)):
        raise InvalidInputError(f"a query needs SOQL text, not {type(data).__name__}")
    body = to_bytes(data, "SOQL")
    if not body.strip():
        raise InvalidInputError("a query needs SOQL text (a non-empty string)")
    return body


def check_batch_data(
    data: object, content_type: ContentType, *, operation: Operation | None = None
) -> bytes:
    """The body of a Bulk 1.0 batch, checked (see the module docstring).

    A query job's batch is SOQL: with ``operation`` unknown, a body that
    starts with ``SELECT`` is taken for one.
    """
    if operation is not None and operation.is_query:
        return check_soql(data)
    if isinstance(data, CheckedCsv) and content_type is ContentType.CSV:
        return data.data
    body = to_bytes(data)
    if not body.strip():
        raise InvalidInputError("a batch needs data; got an empty body")
    if operation is None and _SOQL_START.match(body):
        return body
    records = 0
    if content_type is ContentType.CSV:
        records = check_csv_records(_text(body, "batch"))
    elif content_type is ContentType.JSON:
        records = _check_json_records(body)
    elif content_type is ContentType.XML:
        records = _check_xml_records(body)
    if records > MAX_BATCH_RECORDS:
        raise InvalidInputError(
            f"the batch holds {records:,} records; Salesforce accepts at most "
            f"{MAX_BATCH_RECORDS:,} per batch (split it: sfbulk_sdk.core.csvsplit)"
        )
    return body

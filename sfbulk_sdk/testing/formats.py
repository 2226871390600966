"""Reading uploaded batches and writing results in the three Bulk 1.0 formats.

Ingest batches are read with the :mod:`csv` module (or the XML codec / JSON)
and written through a :class:`~sfbulk_sdk.testing.store.Writer`; results and
query results are rendered straight to text, without a model per record, since
this is the path a 100,000-record load goes through.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

from ..models.base import as_list
from ..models.enums import ContentType
from ..models.results import RecordError
from ..models.xml import NS, XSI_NS, XmlError, element, parse_xml
from .query import CompiledQuery
from .schema import FieldValueError
from .store import ColumnPlan, Database, Outcome, Table, UnknownColumn, Writer
from .values import json_value, text_value

__all__ = [
    "BatchFailure",
    "CsvUpload",
    "QueryShape",
    "ingest",
    "plan_columns",
    "quote_cell",
    "render_query_result",
    "render_results",
    "write_rows",
]

_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'


class BatchFailure(Exception):
    """The whole batch fails: ``state_message`` is the batch's ``stateMessage``."""

    def __init__(self, state_message: str) -> None:
        super().__init__(state_message)
        self.state_message = state_message


def _too_many(count: int, limit: int) -> BatchFailure:
    # Salesforce's CSV reader counts one more than the records in both numbers (the
    # header row) and writes "records : N" with a space before the colon.
    return BatchFailure(
        f"InvalidBatch : Exceeded number of records : {count + 1}. "
        f"Number of records should be less than or equal to {limit + 1}"
    )


# Salesforce's CSV reader refuses what Python's csv module lets through (spec §2.6: values
# are not trimmed and a space next to a quote is an error). The wording is that reader's.
_UNESCAPED_QUOTE = "Found unescaped quote. A value with quote should be within a quote"
_TEXT_AFTER_QUOTE = "Not expecting more text after end quote"
_OPEN_QUOTE_AT_EOF = "EOF reached before closing an opened quote"


def _csv_failure(detail: str) -> BatchFailure:
    return BatchFailure(f"InvalidBatch : Failed to parse CSV. {detail}")


def _csv_error(exc: csv.Error) -> BatchFailure:
    """The batch failure for a CSV syntax error found by ``csv.reader(strict=True)``."""
    text = str(exc)
    if "expected after" in text:
        return _csv_failure(_TEXT_AFTER_QUOTE)
    if "unexpected end of data" in text:
        return _csv_failure(_OPEN_QUOTE_AT_EOF)
    if "field larger than field limit" in text:
        limit = csv.field_size_limit()
        return _csv_failure(f"Exceeded max field size: more than {limit} characters")
    return _csv_failure(text)


def _unescaped_quote(body: str, field_ends: str = ",\r\n") -> bool:
    """True when a ``"`` sits inside an unquoted field (``ab"c``, `` "a"``).

    Python's csv module keeps such a quote as text; Salesforce fails the batch.
    Only the quotes are visited: everything between two of them outside a
    quoted field is plain text, so a quote there must start a field.
    """
    find = body.find
    pos = 0
    while (quote := find('"', pos)) >= 0:
        if quote and body[quote - 1] not in field_ends:
            return True
        close = find('"', quote + 1)
        while close >= 0 and body.startswith('"', close + 1):  # an escaped ""
            close = find('"', close + 2)
        if close < 0:
            return False  # an open quote at the end: csv.reader(strict=True) reports it
        pos = close + 1
    return False


def ingest(
    body: str,
    content_type: ContentType,
    db: Database,
    table: Table,
    writer: Writer,
    *,
    max_records: int,
) -> list[Outcome]:
    """Write every record of an uploaded batch; one :class:`Outcome` per record, in order."""
    if content_type is ContentType.CSV:
        return _ingest_csv(body, db, table, writer, max_records)
    if content_type is ContentType.JSON:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BatchFailure(f"InvalidBatch : Failed to parse JSON: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise BatchFailure("InvalidBatch : JSON batch data must be an array of records")
        records: list[dict[str, Any]] = data
    else:
        try:
            parsed = parse_xml(body, "sObjects")
        except XmlError as exc:
            raise BatchFailure(f"InvalidBatch : Failed to parse XML: {exc}") from None
        content = parsed if isinstance(parsed, dict) else {}
        records = [r if isinstance(r, dict) else {} for r in as_list(content.get("sObject"))]
    if len(records) > max_records:
        raise _too_many(len(records), max_records)
    return _ingest_objects(records, db, table, writer)


def _ingest_csv(
    body: str, db: Database, table: Table, writer: Writer, max_records: int
) -> list[Outcome]:
    upload = CsvUpload(body)
    plans = plan_columns(db, table, upload.header())
    rows = upload.rows()
    if len(rows) > max_records:
        raise _too_many(len(rows), max_records)
    outcomes: list[Outcome] = []
    write_rows(plans, rows, writer, outcomes)
    return outcomes


class CsvUpload:
    """An uploaded CSV body, read as strictly as Salesforce reads it: header, then rows.

    ``delimiter`` is the column delimiter (Bulk 1.0 always uses a comma). Syntax
    errors raise :class:`BatchFailure` with the wording of Salesforce's reader.
    """

    def __init__(self, body: str, delimiter: str = ",") -> None:
        self.body = body
        self.delimiter = delimiter
        self._reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)

    def header(self) -> list[str]:
        """The header row (read first)."""
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise _csv_error(exc) from None
        if not header:
            raise BatchFailure("InvalidBatch : Failed to process CSV: the header row is missing")
        # A parsed value holds a quote only when it was escaped ("") inside a quoted field or
        # stood bare in an unquoted one; only then is the body scanned for the second case.
        if '"' in self.body and '"' in "".join(header) and self._unescaped_quote():
            raise _csv_failure(_UNESCAPED_QUOTE)  # the reader fails before mapping any column
        return header

    def rows(self) -> list[list[str]]:
        """The rows after the header, blank lines skipped."""
        try:
            rows = [row for row in self._reader if row]
        except csv.Error as exc:
            raise _csv_error(exc) from None
        if '"' in self.body and '"' in "".join(map("".join, rows)) and self._unescaped_quote():
            raise _csv_failure(_UNESCAPED_QUOTE)
        return rows

    def _unescaped_quote(self) -> bool:
        return _unescaped_quote(self.body, self.delimiter + "\r\n")


def plan_columns(db: Database, table: Table, header: list[str]) -> list[ColumnPlan]:
    """How each uploaded column maps onto a field; unknown or repeated names fail the batch."""
    plans: list[ColumnPlan] = []
    seen: set[str] = set()
    for column in header:
        try:
            plan = db.plan_column(table, column)
        except UnknownColumn:
            raise BatchFailure(f"InvalidBatch : Field name not found : {column}") from None
        if plan.target in seen:
            raise BatchFailure(f"InvalidBatch : Duplicate field name: {column}")
        seen.add(plan.target)
        plans.append(plan)
    return plans


def write_rows(
    plans: list[ColumnPlan],
    rows: list[list[str]],
    writer: Writer,
    outcomes: list[Outcome],
    *,
    first_line: int = 2,
) -> None:
    """Write CSV rows, appending one :class:`Outcome` per row to ``outcomes``.

    A row whose width differs from the header's fails the batch; the rows
    before it stay written (their outcomes are in ``outcomes``). ``first_line``
    is the line number of the first row, for that message.
    """
    width = len(plans)
    # Per column: target field, the longest text kept as it is (-1: always converted; a
    # longer text goes through the converter, which refuses it), converter, position.
    cells = [
        (plan.target, -1 if plan.text_limit is None else plan.text_limit, plan.convert, n)
        for n, plan in enumerate(plans)
    ]
    write = writer.write
    append = outcomes.append
    for number, row in enumerate(rows, start=first_line):
        if len(row) != width:
            raise BatchFailure(
                f"InvalidBatch : Failed to process CSV: row {number} has {len(row)} values "
                f"but the header has {width}"
            )
        values: dict[str, Any] = {}
        try:
            for target, limit, convert, n in cells:
                raw = row[n]
                if not raw:
                    continue  # an empty CSV value leaves the field as it is
                if raw == "#N/A":
                    values[target] = None
                    continue
                values[target] = raw if len(raw) <= limit else convert(raw)
        except FieldValueError as exc:
            append(writer.failed(values, exc))
            continue
        append(write(values))


def _ingest_objects(
    records: list[dict[str, Any]], db: Database, table: Table, writer: Writer
) -> list[Outcome]:
    plans: dict[str, ColumnPlan | None] = {}

    def plan_for(column: str) -> ColumnPlan | None:
        if column not in plans:
            try:
                plans[column] = db.plan_column(table, column)
            except UnknownColumn:
                plans[column] = None
        return plans[column]

    outcomes: list[Outcome] = []
    for record in records:
        values: dict[str, Any] = {}
        try:
            for key, raw in _flatten(record):
                plan = plan_for(key)
                if plan is None:
                    raise FieldValueError(
                        "INVALID_FIELD",
                        f"No such column '{key}' on entity '{table.name}'. If you are attempting "
                        "to use a custom field, be sure to append the '__c' after the custom "
                        "field name. Please reference your WSDL or the describe call for the "
                        "appropriate names.",
                        (key,),
                    )
                if isinstance(raw, (list, dict)):
                    raise FieldValueError(
                        "INVALID_TYPE_ON_FIELD_IN_RECORD",
                        f"{plan.spec.label}: value not of required type: {raw}",
                        (plan.target,),
                    )
                values[plan.target] = plan.convert(raw)
        except FieldValueError as exc:
            outcomes.append(writer.failed(values, exc))
            continue
        outcomes.append(writer.write(values))
    return outcomes


def _flatten(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Field/value pairs; ``{"Account": {"Ext__c": "x"}}`` becomes ``Account.Ext__c``."""
    for key, value in record.items():
        if key in ("attributes", "type"):
            continue
        if isinstance(value, dict):
            inner = [(k, v) for k, v in value.items() if k not in ("attributes", "type")]
            if len(inner) == 1:
                yield f"{key}.{inner[0][0]}", inner[0][1]
                continue
        yield key, value


# ---------------------------------------------------------------------------
# Per-record results


def quote_cell(text: str) -> str:
    """A CSV value in double quotes (inner quotes doubled), as every result CSV writes them."""
    return '"' + text.replace('"', '""') + '"' if '"' in text else '"' + text + '"'


def _record_error(error: FieldValueError) -> RecordError:
    return RecordError(
        status_code=error.status_code, message=error.message, fields=list(error.fields)
    )


def render_results(outcomes: Sequence[Outcome], content_type: ContentType) -> str:
    """An ingest batch's results in the job's format (CSV, XML or JSON)."""
    if content_type is ContentType.CSV:
        parts = ['"Id","Success","Created","Error"\n']
        append = parts.append
        for rid, success, created, error in outcomes:
            if error is None:
                append(
                    f'"{rid or ""}","{"true" if success else "false"}",'
                    f'"{"true" if created else "false"}",""\n'
                )
            else:
                text = quote_cell(_record_error(error).to_csv_text())
                append(f'"{rid or ""}","false","false",{text}\n')
        return "".join(parts)
    if content_type.is_json:
        items: list[str] = []
        for rid, success, created, error in outcomes:
            if error is None:
                items.append(
                    f'{{"success":{"true" if success else "false"},'
                    f'"created":{"true" if created else "false"},'
                    f'"id":{json.dumps(rid)},"errors":[]}}'
                )
            else:
                detail = {
                    "statusCode": error.status_code,
                    "message": error.message,
                    "fields": list(error.fields),
                }
                items.append(
                    json.dumps(
                        {"success": False, "created": False, "id": rid, "errors": [detail]},
                        separators=(",", ":"),
                    )
                )
        return "[" + ",".join(items) + "]"
    parts = [f'{_XML_DECL}<results xmlns="{NS}">']
    for rid, success, created, error in outcomes:
        errors = element("errors", dict(_record_error(error).wire_items())) if error else ""
        ident = element("id", rid)
        parts.append(
            f"<result>{errors}{ident}<success>{'true' if success else 'false'}</success>"
            f"<created>{'true' if created else 'false'}</created></result>"
        )
    parts.append("</results>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# Query results


class QueryShape:
    """What a query result file needs to be rendered: columns and relationship layout."""

    def __init__(self, query: CompiledQuery, api_version: str) -> None:
        self.sobject = query.table.name
        self.headers = [c.name for c in query.columns]
        self.paths = [c.path for c in query.columns]
        self.relationships = [(path, name) for path, name, _ in query.relationships]
        self.api_version = api_version
        self.offset = 1 + len(self.relationships)


def render_query_result(
    shape: QueryShape, rows: Sequence[tuple[Any, ...]], content_type: ContentType
) -> str:
    """One query result file in the job's format."""
    if content_type is ContentType.CSV:
        if not rows:
            return "Records not found for this query"
        off = shape.offset
        out = [",".join(quote_cell(h) for h in shape.headers) + "\n"]
        out.extend(",".join(quote_cell(text_value(v)) for v in row[off:]) + "\n" for row in rows)
        return "".join(out)
    if content_type.is_json:
        return _json_records(shape, rows)
    return _xml_records(shape, rows)


class _Nested:
    """One result row grouped by relationship path (``()`` is the root record)."""

    def __init__(self, shape: QueryShape, row: tuple[Any, ...]) -> None:
        self.types = dict(shape.relationships)
        self.groups: dict[tuple[str, ...], dict[str, Any]] = {(): {}}
        self.parent_ids: dict[tuple[str, ...], Any] = {}
        for (path, _), parent_id in zip(shape.relationships, row[1 : shape.offset], strict=True):
            self.groups[path] = {}
            self.parent_ids[path] = parent_id
        for path, value in zip(shape.paths, row[shape.offset :], strict=True):
            self.groups[path[:-1]][path[-1]] = value

    def children(self, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str, Any]]:
        """Relationships directly under ``path``: (path, sObject type, parent id)."""
        return [
            (child, sobject, self.parent_ids[child])
            for child, sobject in self.types.items()
            if len(child) == len(path) + 1 and child[: len(path)] == path
        ]


def _json_record(
    nested: _Nested, path: tuple[str, ...], sobject: str, rid: Any, version: str
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/v{version}/sobjects/{sobject}/{rid}",
        }
    }
    for name, value in nested.groups[path].items():
        record[name] = json_value(value)
    for child, child_type, child_id in nested.children(path):
        record[child[-1]] = (
            None if child_id is None else _json_record(nested, child, child_type, child_id, version)
        )
    return record


def _json_records(shape: QueryShape, rows: Sequence[tuple[Any, ...]]) -> str:
    """The records as Salesforce's Jackson pretty-printer lays them out: ``[ {`` ... ``} ]``."""
    if not rows:
        return "[ ]"
    items = (
        json.dumps(
            _json_record(_Nested(shape, row), (), shape.sobject, row[0], shape.api_version),
            indent=2,
            separators=(",", " : "),
        )
        for row in rows
    )
    return "[ " + ", ".join(items) + " ]"


def _xml_text(value: Any) -> str:
    return escape(text_value(value))


def _xml_record(nested: _Nested, path: tuple[str, ...], sobject: str) -> str:
    inner = [f"<type>{sobject}</type>"]
    fields = nested.groups[path]
    if fields.get("Id") is not None:
        inner.append(f"<Id>{fields['Id']}</Id>")
    else:
        inner.append('<Id xsi:nil="true"/>')
    for name, value in fields.items():
        if value is None:
            inner.append(f'<{name} xsi:nil="true"/>')
        else:
            inner.append(f"<{name}>{_xml_text(value)}</{name}>")
    for child, child_type, child_id in nested.children(path):
        tag = child[-1]
        if child_id is None:
            inner.append(f'<{tag} xsi:nil="true"/>')
        else:
            body = _xml_record(nested, child, child_type)
            inner.append(f'<{tag} xsi:type="sObject">{body}</{tag}>')
    return "".join(inner)


def _xml_records(shape: QueryShape, rows: Sequence[tuple[Any, ...]]) -> str:
    parts = [f'{_XML_DECL}<queryResult xmlns="{NS}" xmlns:xsi="{XSI_NS}">']
    for row in rows:
        record = _xml_record(_Nested(shape, row), (), shape.sobject)
        parts.append(f'<records xsi:type="sObject">{record}</records>')
    parts.append("</queryResult>")
    return "".join(parts)


def split_files(
    rows: list[tuple[Any, ...]], per_file: int | None
) -> Iterable[list[tuple[Any, ...]]]:
    """Cut query rows into result files of at most ``per_file`` rows (always one file)."""
    if not per_file or len(rows) <= per_file:
        return [rows]
    return [rows[i : i + per_file] for i in range(0, len(rows), per_file)]

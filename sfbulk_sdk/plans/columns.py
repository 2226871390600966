"""The columns of a query: names from the SOQL, types from ``describe``.

Bulk results are CSV text: every value arrives as a string. A plan carries
each column's type in an engine-neutral name (``string``, ``boolean``,
``int``, ``bigint``, ``double``, ``date``, ``timestamp``; the names happen to
be Spark's DDL too), learnt from the object's ``describe`` where the field is
the object's own, ``string`` otherwise (relationship paths such as
``Owner.Name``). :func:`convert` turns a CSV value into the Python value of
its type, an empty value into ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..core.rest import RestCall
from ..core.rest import parse_json as rest_json
from ..errors import InvalidInputError, MalformedReplyError

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "columns_for",
    "convert",
    "describe_types",
    "match_columns",
    "query_fields",
    "query_object",
    "rows_converter",
]

#: The column types a plan can carry.
COLUMN_TYPES = ("string", "boolean", "int", "bigint", "double", "date", "timestamp")

#: Salesforce field types (``describe``'s ``type``) that are not text.
_SF_TYPES = {
    "boolean": "boolean",
    "int": "int",
    "long": "bigint",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "timestamp",
}

_SELECT = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)", re.I | re.S)
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Column:
    """One result column: its name as the CSV header gives it, and its type."""

    name: str
    type: str = "string"

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise InvalidInputError(f"column type must be one of {COLUMN_TYPES}, not {self.type!r}")


def query_object(soql: str) -> str:
    """The object a SOQL query reads (``FROM X``)."""
    match = _SELECT.match(soql) if isinstance(soql, str) else None
    if match is None:
        raise InvalidInputError("the SOQL must read 'SELECT <fields> FROM <object> ...'")
    return match["object"]


def query_fields(soql: str) -> list[str]:
    """The selected fields, in SOQL order (the order Bulk results use from API 50.0).

    Only plain fields and relationship paths: Bulk queries refuse aggregates,
    sub-queries and ``TYPEOF``, so anything else is refused here before any I/O.
    """
    match = _SELECT.match(soql) if isinstance(soql, str) else None
    if match is None:
        raise InvalidInputError("the SOQL must read 'SELECT <fields> FROM <object> ...'")
    fields = [part.strip() for part in match["fields"].split(",")]
    for name in fields:
        if not _FIELD.match(name):
            raise InvalidInputError(
                f"cannot plan a column for {name!r}: Bulk queries take plain fields and "
                "relationship paths (no aggregates, functions or sub-queries)"
            )
    return fields


def _describe_fields(body: bytes) -> dict[str, str]:
    document = json.loads(body)
    fields = document.get("fields") if isinstance(document, dict) else None
    if not isinstance(fields, list):
        raise MalformedReplyError("a describe reply without a 'fields' list")
    found: dict[str, str] = {}
    for item in fields:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            found[item["name"].lower()] = str(item.get("type", "string")).lower()
    return found


def describe_types(sobject: str) -> RestCall[dict[str, str]]:
    """``GET sobjects/{sobject}/describe``: each field's Salesforce type, by lower-case name."""
    if not re.fullmatch(r"\w+", sobject or ""):
        raise InvalidInputError(f"{sobject!r} is not an object name")
    return RestCall("GET", f"sobjects/{sobject}/describe", rest_json(_describe_fields, "describe"))


def columns_for(fields: Sequence[str], types: Mapping[str, str]) -> tuple[Column, ...]:
    """Columns for ``fields`` with the types ``describe`` gave (text where unknown)."""
    return tuple(
        Column(name, _SF_TYPES.get(types.get(name.lower(), ""), "string")) for name in fields
    )


def _timestamp(text: str) -> datetime:
    # Bulk 2.0 writes 2022-01-02T21:33:43.000+0000, Bulk 1.0 CSV ...000Z.
    cleaned = text.replace("Z", "+0000") if text.endswith("Z") else text
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    return datetime.fromisoformat(text)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"not a boolean: {text[:20]!r}")
    return lowered == "true"


_CONVERTERS: dict[str, Callable[[str], object]] = {
    "boolean": _boolean,
    "int": int,
    "bigint": int,
    "double": float,
    "date": date.fromisoformat,
    "timestamp": _timestamp,
}


def convert(column: Column, value: object) -> object:
    """``value`` (CSV text) as ``column``'s type; empty or missing is ``None``."""
    if value is None or value == "":
        return None
    if column.type == "string":
        return str(value)
    text = str(value)
    try:
        return _CONVERTERS[column.type](text)
    except ValueError as exc:
        raise MalformedReplyError(
            f"column {column.name!r} holds a value that is not a {column.type}"
        ) from exc


def match_columns(fields: Sequence[str], columns: Sequence[Column]) -> tuple[Column, ...]:
    """``columns`` (a schema given by the user) checked against the query's ``fields``.

    Salesforce field names are case-insensitive, so ``id`` matches ``Id``; the
    columns keep their own names and order. Any selected field the columns
    lack, any column the query does not select, any name given twice is
    refused in one line naming them (a column nobody selected would only
    ever be null).
    """
    selected = {name.lower(): name for name in fields}
    seen: dict[str, str] = {}
    twice = []
    for column in columns:
        key = column.name.lower()
        if key in seen:
            twice.append(column.name)
        seen[key] = column.name
    missing = [name for key, name in selected.items() if key not in seen]
    extra = [name for key, name in seen.items() if key not in selected]
    if not (missing or extra or twice):
        return tuple(columns)
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)} (selected by the query)")
    if extra:
        problems.append(f"extra {', '.join(extra)} (not selected by the query)")
    if twice:
        problems.append(f"given twice {', '.join(twice)}")
    raise InvalidInputError(
        "the schema's columns are not the query's fields: " + "; ".join(problems)
    )


def rows_converter(
    columns: Sequence[Column],
) -> Callable[[Mapping[str, object]], tuple[object, ...]]:
    """A function turning one result record into a tuple in ``columns`` order.

    A column finds its value under its own name or, Salesforce field names
    being case-insensitive, under the record's key that differs only in case
    (``SELECT id`` has results under ``Id``).
    """
    names = [c.name for c in columns]
    keys: list[str] = []

    def resolve(record: Mapping[str, object]) -> list[str]:
        by_lower = {str(key).lower(): str(key) for key in record}
        return [n if n in record else by_lower.get(n.lower(), n) for n in names]

    def to_row(record: Mapping[str, object]) -> tuple[object, ...]:
        if not keys or any(k not in record for k in keys):
            keys[:] = resolve(record)  # once: the records of one result share their keys
        return tuple(convert(c, record.get(k)) for c, k in zip(columns, keys, strict=True))

    return to_row

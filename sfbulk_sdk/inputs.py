"""What a load accepts, turned into upload bodies: records, models, CSV files, frames.

:func:`prepare` takes any of:

* an iterable of mappings (``{"LastName": "Lovelace", ...}``): the fields are the
  first mapping's keys unless ``fields`` is given; a later record may leave a
  field out (``None``: cleared) but not add one;
* an iterable of pydantic models (all of one class): the fields are the model's
  (by alias), and a field whose type cannot be written to CSV is refused
  before anything is read;
* an iterable of sequences, with ``fields``;
* a CSV file (a path, or a file object open in binary mode): sent as it is, cut
  at whole records; checked whole before the first body when it is a path or
  a seekable file (a pipe or socket is checked as it is read);
* a pandas ``DataFrame`` or a pyarrow ``Table`` (the ``pandas`` / ``arrow``
  extras): missing values (``NaN``, ``NaT``, ``NA``, ``None``, nulls) are
  ``None``, and numpy scalars are written as the Python values they hold;
* for delete and hardDelete, plain record ids.

``fields`` picks and orders what is sent: the keys of mappings, the names of
sequences' values, or a subset of a frame's or table's columns or of a model's
fields (a name they do not have is refused). A CSV file is sent as it is, so
``fields`` must then be its header or be left out.

Sized inputs (lists, tuples, frames, tables) are encoded whole before the
first body is handed out, so bad input is refused before anything is sent;
an iterator is encoded as it is read, and a bad record stops the load before
the body holding it is sent.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import IO, Annotated, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from .core.csvsplit import Limits, scan_csv, split_csv
from .core.encode import (
    EncodedBody,
    RecordEncoder,
    check_join_keys,
    rows_of_mappings,
    rows_of_sequences,
)
from .csvfiles import split_csv_file
from .errors import InvalidInputError

__all__ = ["LINE_ENDING", "Limits", "Prepared", "prepare"]

T = TypeVar("T")

_FILE_CHUNK = 1 << 20
_WRITABLE = (str, int, float, bool, Decimal, datetime, date, time, Enum, type(None))


#: How encoded records end. With ``\r\n`` the :mod:`csv` writer quotes a value
#: holding a bare ``\r`` as well as one holding ``\n`` (with ``\n`` alone it would
#: leave a bare ``\r`` unquoted, which Salesforce reads as a line break).
LINE_ENDING = "\r\n"


@dataclass
class Prepared:
    """The fields of a load and its bodies (lazy), each within the limits."""

    fields: list[str]
    bodies: Iterator[EncodedBody]
    #: The number of rows when known before the load starts (sized inputs).
    total: int | None = None
    #: How the bodies' lines end (``"\r\n"`` or ``"\n"``; a CSV file keeps its own).
    line_ending: str = LINE_ENDING
    #: The join field as the input names it (``key`` matched without regard to case).
    key: str | None = None


def _model_fields(model: type[BaseModel], fields: list[str] | None) -> tuple[list[str], list[str]]:
    """(wire names, attribute names) of a model's fields (those of ``fields``, in its
    order, when given); a field of a type CSV cannot hold is refused."""
    wire: list[str] = []
    attrs: list[str] = []
    for name, info in model.model_fields.items():
        wire.append(info.alias or name)
        attrs.append(name)
    if fields is not None:
        unknown = [name for name in fields if name not in wire]
        if unknown:
            raise InvalidInputError(
                f"fields {unknown} are not fields of {model.__name__} (name them by alias "
                "where the model gives one)"
            )
        attrs = [attrs[wire.index(name)] for name in fields]
        wire = list(fields)
    for name in attrs:
        annotation = model.model_fields[name].annotation
        if not _writable(annotation):
            raise InvalidInputError(
                f"field {name!r} of {model.__name__} is a {annotation!r}, which cannot be "
                "written to a CSV field (use str, int, float, bool, Decimal, date, datetime or "
                "an Enum)"
            )
    return wire, attrs


def _writable(annotation: object) -> bool:
    if annotation is None or annotation is type(None):
        return True
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType or isinstance(annotation, UnionType):
        return all(_writable(arg) for arg in get_args(annotation))
    if origin is Literal:
        return all(isinstance(arg, _WRITABLE) for arg in get_args(annotation))
    if origin is Annotated:  # constr(...), Annotated[int, Field(gt=0)], ...
        return _writable(get_args(annotation)[0])
    return isinstance(annotation, type) and issubclass(annotation, _WRITABLE)


def _models(
    records: Iterable[BaseModel], model: type[BaseModel], attrs: list[str]
) -> Iterator[Sequence[object]]:
    getters = attrs
    for number, record in enumerate(records, 1):
        if not isinstance(record, model):
            raise InvalidInputError(
                f"row {number} is of type {type(record).__name__}, not {model.__name__} like "
                "row 1: a load takes records of one kind"
            )
        yield tuple(getattr(record, name) for name in getters)


def _field_names(fields: object) -> list[str] | None:
    """``fields`` as a list of names, checked (``None`` when not given)."""
    if fields is None:
        return None
    if isinstance(fields, (str, bytes, Mapping)) or not isinstance(fields, Iterable):
        raise InvalidInputError(
            f"fields must be a list of field names, not a {type(fields).__name__}"
            + (f" (for one field write [{fields!r}])" if isinstance(fields, str) else "")
        )
    names = list(fields)
    if not names:
        raise InvalidInputError("fields is empty: name at least one field")
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"every field must be a non-empty name, not {name!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInputError(f"fields repeats names: {repeated}")
    return names


def _columns_of(columns: list[str], fields: list[str] | None, what: str) -> list[int]:
    """The positions of ``fields`` (all of them when ``None``) among ``columns``."""
    if fields is None:
        return list(range(len(columns)))
    unknown = [name for name in fields if name not in columns]
    if unknown:
        raise InvalidInputError(f"fields {unknown} are not columns of the {what}")
    ambiguous = [name for name in fields if columns.count(name) > 1]
    if ambiguous:
        raise InvalidInputError(f"the {what} has more than one column named {ambiguous}")
    return [columns.index(name) for name in fields]


def _column_name(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise InvalidInputError(
            f"the {what}'s column names must be text, not {name!r} (a {type(name).__name__}): "
            "rename its columns to the Salesforce field names"
        )
    return name


def _frame_rows(
    frame: object, fields: list[str] | None
) -> tuple[list[str], Iterator[Sequence[object]], int]:
    columns = [_column_name(c, "DataFrame") for c in frame.columns]  # type: ignore[attr-defined]
    at = _columns_of(columns, fields, "DataFrame")
    if at != list(range(len(columns))):
        frame = frame.iloc[:, at]  # type: ignore[attr-defined]

    def rows() -> Iterator[Sequence[object]]:
        missing = _missing_as_none
        for values in frame.itertuples(index=False, name=None):  # type: ignore[attr-defined]
            yield tuple(map(missing, values))

    return [columns[i] for i in at], rows(), len(frame)  # type: ignore[arg-type]


_NATIVE = frozenset({str, int, bool})


def _missing_as_none(value: object) -> object:
    """A frame's value as a Python value; a missing one (NaN, NaT, NA) as ``None``."""
    kind = type(value)
    if kind in _NATIVE or value is None:
        return value
    if kind is float:
        return None if math.isnan(value) else value  # type: ignore[arg-type]
    name = kind.__name__
    if name in ("NaTType", "NAType"):
        return None
    if name == "Timestamp":
        return value.to_pydatetime()  # type: ignore[attr-defined]
    if kind.__module__ == "numpy":
        return _numpy_value(value)
    return value


def _numpy_value(value: object) -> object:
    """A numpy scalar as the Python value it holds (``None`` for NaN and NaT)."""
    if value != value:  # NaN, NaT
        return None
    if type(value).__name__ == "datetime64":
        value = value.astype("datetime64[us]")  # type: ignore[attr-defined]
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _table_rows(
    table: object, fields: list[str] | None
) -> tuple[list[str], Iterator[Sequence[object]], int]:
    columns = [_column_name(c, "Table") for c in table.column_names]  # type: ignore[attr-defined]
    at = _columns_of(columns, fields, "Table")
    if at != list(range(len(columns))):
        table = table.select(at)  # type: ignore[attr-defined]
    table = _nan_as_null(table)
    names = [columns[i] for i in at]

    def rows() -> Iterator[Sequence[object]]:
        for batch in table.to_batches():  # type: ignore[attr-defined]
            # Column by column (C), then one tuple a row: not one dict a row.
            yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)

    return names, rows(), int(table.num_rows)  # type: ignore[attr-defined]


def _nan_as_null(table: object) -> object:
    """``table`` with the NaN of its float columns made nulls (which clear a field)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for index, column in enumerate(table.columns):  # type: ignore[attr-defined]
        if pa.types.is_floating(column.type):
            nan = pc.is_nan(column)
            if pc.any(nan).as_py():
                cleared = pc.if_else(nan, pa.scalar(None, column.type), column)
                table = table.set_column(index, table.field(index), cleared)  # type: ignore[attr-defined]
    return table


def _is_frame(value: object) -> bool:
    module = type(value).__module__
    return module.startswith("pandas") and hasattr(value, "itertuples")


def _is_table(value: object) -> bool:
    module = type(value).__module__
    return module.startswith("pyarrow") and hasattr(value, "to_batches")


def _csv_keys(data: bytes, column: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    header = next(reader, [])
    try:
        at = header.index(column)
    except ValueError:
        raise InvalidInputError(
            f"the CSV has no {column!r} column, which this operation needs"
        ) from None
    return [values[at] if at < len(values) else "" for values in reader if values]


def _seekable(source: IO[bytes]) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    """The bytes of ``source`` a chunk at a time; a text-mode file is refused."""
    while True:
        chunk = source.read(_FILE_CHUNK)
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise _not_binary(chunk)
        if not chunk:
            return
        yield bytes(chunk)


def _not_binary(chunk: object) -> InvalidInputError:
    return InvalidInputError(
        "the CSV file is open in text mode: open it in binary mode (open(path, 'rb')) or "
        f"pass its path (reading it gave a {type(chunk).__name__}, not bytes)"
    )


def _csv_header(line: bytes, delimiter: str) -> list[str]:
    try:
        head = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise InvalidInputError("the CSV's header is not UTF-8 text") from None
    header = next(csv.reader([head], delimiter=delimiter), [])
    empty = [number for number, name in enumerate(header, 1) if not name.strip()]
    if empty:
        raise InvalidInputError(f"the CSV's header has no name for column(s) {empty}")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidInputError(f"the CSV's header repeats column names: {repeated}")
    return header


def _csv_bodies(
    source: str | os.PathLike[str] | IO[bytes],
    limits: Limits,
    key: str | None,
    delimiter: str,
    fields: list[str] | None,
) -> Prepared:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InvalidInputError(f"no CSV file at {path!r}")
        batches = split_csv_file(path, limits=limits, delimiter=delimiter, one_ending=True)
    else:
        if isinstance(source, io.TextIOBase):
            raise _not_binary("")
        if _seekable(source):
            # Check it whole first (then read it again), so that a bad record is
            # refused before anything is sent, as for a path.
            start = source.tell()
            scan_csv(_chunks(source), limits=limits, delimiter=delimiter, one_ending=True)
            source.seek(start)
        batches = split_csv(_chunks(source), limits=limits, delimiter=delimiter, one_ending=True)
    first = next(batches, None)
    if first is None:
        raise InvalidInputError("the CSV holds no records: nothing to load")
    line = first.data.split(b"\n", 1)[0]
    ending = "\r\n" if line.endswith(b"\r") else "\n"
    header = _csv_header(line, delimiter)
    if fields is not None and fields != header:
        raise InvalidInputError(
            f"fields {fields} is not the CSV's header {header}: a CSV file is sent as it "
            "is, so leave fields out (or load its rows as mappings to pick columns)"
        )
    if key is not None:
        key = _named(header, key, "CSV")

    def bodies() -> Iterator[EncodedBody]:
        row = 0
        for batch in _chain(first, batches):
            keys = _csv_keys(batch.data, key, delimiter) if key is not None else []
            if key is not None:
                check_join_keys(keys, row, key)
            yield EncodedBody(batch.data, row, batch.records, keys)
            row += batch.records

    return Prepared(header, bodies(), line_ending=ending, key=key)


def prepare(
    records: object,
    *,
    limits: Limits,
    fields: Sequence[str] | None = None,
    key: str | None = None,
    delimiter: str = ",",
    ids_field: str | None = None,
    required: str | None = None,
    unit: str = "batch",
) -> Prepared:
    """The upload bodies of ``records`` (see the module docstring).

    ``key`` names the field whose values each body collects (the Bulk 2.0
    join column); ``ids_field`` lets plain strings stand for ``{ids_field: s}``
    (record ids for delete); ``required`` names a field the records must have
    (the ``Id`` of an update, the external id of an upsert); ``unit`` what a body
    is called in messages (``"batch"``, or ``"job"`` for Bulk 2.0).
    """
    chosen = _field_names(fields)
    if isinstance(records, (str, os.PathLike)) or hasattr(records, "read"):
        prepared = _csv_bodies(records, limits, key, delimiter, chosen)  # type: ignore[arg-type]
        if required is not None:
            _named(prepared.fields, required, "CSV")
        return prepared
    if isinstance(records, (bytes, bytearray, Mapping)):
        raise InvalidInputError(
            f"records must be an iterable of records, a CSV file or a data frame, not a "
            f"{type(records).__name__}"
        )
    total: int | None = None
    if _is_frame(records):
        names, rows, total = _frame_rows(records, chosen)
    elif _is_table(records):
        names, rows, total = _table_rows(records, chosen)
    else:
        if not isinstance(records, Iterable):
            raise InvalidInputError(
                f"records must be an iterable of records, not a {type(records).__name__}"
            )
        sized = isinstance(records, Sequence)
        total = len(records) if sized else None  # type: ignore[arg-type]
        items = iter(records)
        first = next(items, None)
        if first is None:
            raise InvalidInputError("the input holds no records: nothing to load")
        chained = _chain(first, items)
        if isinstance(first, str) and ids_field is not None:
            names = [ids_field]
            rows = ((value,) for value in chained)
        elif isinstance(first, BaseModel):
            names, attrs = _model_fields(type(first), chosen)
            rows = _models(chained, type(first), attrs)
        elif isinstance(first, Mapping):
            names = chosen or [_key_name(name) for name in first]
            # Named fields pick what is sent; else a key the first record lacks is refused.
            rows = rows_of_mappings(chained, names, strict=chosen is None)
        else:
            if chosen is None:
                raise InvalidInputError("rows given as sequences need fields=[...] naming them")
            names = chosen
            rows = rows_of_sequences(chained)
    if required is not None:
        _named(names, required, "records")
    if key is not None:
        key = _named(names, key, "records")
    encoder = RecordEncoder(
        names, limits=limits, delimiter=delimiter, line_ending=LINE_ENDING, key=key, unit=unit
    )
    bodies = encoder.bodies(rows)
    if key is not None:
        bodies = _keys_checked(bodies, key)
    if total is not None:
        # Sized input: encode it whole now, so that a bad record is refused
        # before the first body is sent.
        encoded = list(bodies)
        if not encoded:
            raise InvalidInputError("the input holds no records: nothing to load")
        return Prepared(names, iter(encoded), total, key=key)
    return Prepared(names, bodies, key=key)


def _keys_checked(bodies: Iterator[EncodedBody], key: str) -> Iterator[EncodedBody]:
    """``bodies``, each refused when a join key repeats in it (before it is sent)."""
    for body in bodies:
        check_join_keys(body.keys, body.first_row, key)
        yield body


def _key_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidInputError(
            f"row 1 has a key {name!r} (a {type(name).__name__}): field names must be text"
        )
    return name


def _named(fields: list[str], name: str, what: str) -> str:
    """``name`` as ``fields`` spell it (Salesforce matches field names without regard to
    case: ``ID`` is ``Id``); refused when the input has no such field."""
    if name in fields:
        return name
    found = [field for field in fields if field.lower() == name.lower()]
    if len(found) == 1:
        return found[0]
    raise InvalidInputError(
        f"the {what} have no {name!r} field, which this operation needs"
        if what == "records"
        else f"the CSV has no {name!r} column, which this operation needs"
    )


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    # itertools, not a generator: a million rows pass through here one by one.
    return itertools.chain((first,), rest)

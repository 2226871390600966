"""What a load accepts, turned into upload bodies: records, models, CSV files, frames.

:func:`prepare` takes any of:

* an iterable of mappings (``{"LastName": "Lovelace", ...}``): the fields are the
  first mapping's keys unless ``fields`` is given; a later record may leave a
  field out (``None``: cleared) but not add one;
* an iterable of pydantic models: the fields are the model's (by alias), and a
  field whose type cannot be written to CSV is refused before anything is read;
* an iterable of sequences, with ``fields``;
* a CSV file (a path, or a binary file object): sent as it is, cut at whole
  records; checked whole before the first body when it is a path or a
  seekable file (a pipe or socket is checked as it is read);
* a pandas ``DataFrame`` or a pyarrow ``Table`` (the ``pandas`` / ``arrow``
  extras): missing values (``NaN``, ``NaT``, ``None``, nulls) are ``None``;
* for delete and hardDelete, plain record ids.

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
from typing import IO, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from .core.csvsplit import Limits, scan_csv, split_csv
from .core.encode import EncodedBody, RecordEncoder, rows_of_mappings, rows_of_sequences
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


def _model_fields(model: type[BaseModel]) -> tuple[list[str], list[str]]:
    """(wire names, attribute names) of a model's fields; unknown types refused."""
    wire: list[str] = []
    attrs: list[str] = []
    for name, info in model.model_fields.items():
        if not _writable(info.annotation):
            raise InvalidInputError(
                f"field {name!r} of {model.__name__} is a {info.annotation!r}, which cannot be "
                "written to a CSV field (use str, int, float, bool, Decimal, date, datetime or "
                "an Enum)"
            )
        wire.append(info.alias or name)
        attrs.append(name)
    return wire, attrs


def _writable(annotation: object) -> bool:
    if annotation is None or annotation is type(None):
        return True
    origin = get_origin(annotation)
    if origin is Union or (origin is not None and type(annotation).__name__ == "UnionType"):
        return all(_writable(arg) for arg in get_args(annotation))
    if origin is not None and str(origin).endswith("Literal"):
        return True
    if str(getattr(annotation, "__origin__", "")) == "typing.Annotated":  # pragma: no cover
        return _writable(get_args(annotation)[0])
    return isinstance(annotation, type) and issubclass(annotation, _WRITABLE)


def _models(records: Iterable[BaseModel], attrs: list[str]) -> Iterator[Sequence[object]]:
    getters = attrs
    for record in records:
        yield tuple(getattr(record, name) for name in getters)


def _frame_rows(frame: object) -> tuple[list[str], Iterator[Sequence[object]], int]:
    columns = [str(c) for c in frame.columns]  # type: ignore[attr-defined]

    def rows() -> Iterator[Sequence[object]]:
        for values in frame.itertuples(index=False, name=None):  # type: ignore[attr-defined]
            yield tuple(_missing_as_none(v) for v in values)

    return columns, rows(), len(frame)  # type: ignore[arg-type]


def _missing_as_none(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    kind = type(value).__name__
    if kind in ("NaTType", "NAType"):
        return None
    if kind == "Timestamp":
        return value.to_pydatetime()  # type: ignore[attr-defined]
    return value


def _table_rows(table: object) -> tuple[list[str], Iterator[Sequence[object]], int]:
    columns = [str(c) for c in table.column_names]  # type: ignore[attr-defined]

    def rows() -> Iterator[Sequence[object]]:
        for batch in table.to_batches():  # type: ignore[attr-defined]
            for record in batch.to_pylist():
                yield tuple(record[c] for c in columns)

    return columns, rows(), int(table.num_rows)  # type: ignore[attr-defined]


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


def _csv_bodies(
    source: str | os.PathLike[str] | IO[bytes],
    limits: Limits,
    key: str | None,
    delimiter: str,
) -> Prepared:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InvalidInputError(f"no CSV file at {path!r}")
        batches = split_csv_file(path, limits=limits, delimiter=delimiter)
    else:
        if _seekable(source):
            # Check it whole first (then read it again), so that a bad record is
            # refused before anything is sent, as for a path.
            start = source.tell()
            scan_csv(
                iter(lambda: source.read(_FILE_CHUNK), b""), limits=limits, delimiter=delimiter
            )
            source.seek(start)
        chunks = iter(lambda: source.read(_FILE_CHUNK), b"")
        batches = split_csv(chunks, limits=limits, delimiter=delimiter)
    first = next(batches, None)
    if first is None:
        raise InvalidInputError("the CSV holds no records: nothing to load")
    line = first.data.split(b"\n", 1)[0]
    ending = "\r\n" if line.endswith(b"\r") else "\n"
    head = line.decode("utf-8-sig").rstrip("\r")
    fields = next(csv.reader([head], delimiter=delimiter), [])

    def bodies() -> Iterator[EncodedBody]:
        row = 0
        for batch in _chain(first, batches):
            keys = _csv_keys(batch.data, key, delimiter) if key is not None else []
            yield EncodedBody(batch.data, row, batch.records, keys)
            row += batch.records

    return Prepared(fields, bodies(), line_ending=ending)


def prepare(
    records: object,
    *,
    limits: Limits,
    fields: Sequence[str] | None = None,
    key: str | None = None,
    delimiter: str = ",",
    ids_field: str | None = None,
) -> Prepared:
    """The upload bodies of ``records`` (see the module docstring).

    ``key`` names the field whose values each body collects (the Bulk 2.0
    join column); ``ids_field`` lets plain strings stand for ``{ids_field: s}``
    (record ids for delete).
    """
    if isinstance(records, (str, os.PathLike)) or hasattr(records, "read"):
        return _csv_bodies(records, limits, key, delimiter)  # type: ignore[arg-type]
    if isinstance(records, (bytes, bytearray, Mapping)):
        raise InvalidInputError(
            f"records must be an iterable of records, a CSV file or a data frame, not a "
            f"{type(records).__name__}"
        )
    total: int | None = None
    if _is_frame(records):
        names, rows, total = _frame_rows(records)
    elif _is_table(records):
        names, rows, total = _table_rows(records)
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
            names, attrs = _model_fields(type(first))
            rows = _models(chained, attrs)
        elif isinstance(first, Mapping):
            names = [str(name) for name in (fields or first.keys())]
            rows = rows_of_mappings(chained, names)
        else:
            if fields is None:
                raise InvalidInputError("rows given as sequences need fields=[...] naming them")
            names = [str(name) for name in fields]
            rows = rows_of_sequences(chained)
    encoder = RecordEncoder(
        names, limits=limits, delimiter=delimiter, line_ending=LINE_ENDING, key=key
    )
    bodies = encoder.bodies(rows)
    if total is not None:
        # Sized input: encode it whole now, so that a bad record is refused
        # before the first body is sent.
        encoded = list(bodies)
        if not encoded:
            raise InvalidInputError("the input holds no records: nothing to load")
        return Prepared(names, iter(encoded), total)
    return Prepared(names, bodies)


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    # itertools, not a generator: a million rows pass through here one by one.
    return itertools.chain((first,), rest)

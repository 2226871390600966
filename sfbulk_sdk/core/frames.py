"""Outcomes and query records as pandas DataFrames or pyarrow Tables (optional extras).

``pandas`` and ``pyarrow`` are imported only when a frame is asked for; a
missing one raises a one-line :class:`~sfbulk_sdk.errors.SfBulkError` naming
the extra to install (``pip install 'sfbulk-sdk[pandas]'`` or ``[arrow]``).

Frames are built column by column, never one object per row: a load's
outcomes straight from the columns of its
:class:`~sfbulk_sdk.core.outcomes.LoadResult`, query records a chunk at a time
(an Arrow table is assembled from record batches of :data:`CHUNK` rows, so
Python holds at most one chunk of values besides the table).

The outcome columns are ``row`` (the 0-based input row, null where the API
cannot tell), ``success``, ``created``, ``id`` (null when none), ``error``
(``STATUS_CODE:message:fields``, ``""`` on success) and ``resubmitted``.
Query records keep Salesforce's text values; ``""`` (an empty field) is null.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ..errors import SfBulkError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .outcomes import LoadResult

__all__ = [
    "CHUNK",
    "OUTCOME_COLUMNS",
    "ArrowBuilder",
    "PandasBuilder",
    "outcomes_to_arrow",
    "outcomes_to_pandas",
    "records_to_arrow",
    "records_to_pandas",
    "require",
]

#: Query records turned into Arrow at a time.
CHUNK = 50_000
#: The columns of a load's outcome frame, in order.
OUTCOME_COLUMNS = ("row", "success", "created", "id", "error", "resubmitted")
_EXTRAS = {"pandas": "pandas", "pyarrow": "arrow"}


def require(module: str) -> ModuleType:
    """Import ``pandas`` or ``pyarrow``, or raise a one-line error naming its extra."""
    extra = _EXTRAS[module]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SfBulkError(
            f"this needs the {module!r} package: pip install 'sfbulk-sdk[{extra}]'"
        ) from exc


def _outcome_columns(result: LoadResult) -> dict[str, list[object]]:
    size = len(result)
    errors: list[object] = [""] * size
    for row in result.failed_rows():  # only the failed rows' errors are parsed
        errors[row] = result[row].error
    resubmitted = result.resubmitted
    success, created = result.flags()
    return {
        "row": list(range(size)) if result.rows_known else [None] * size,
        "success": [bool(v) for v in success],
        "created": [bool(v) for v in created],
        "id": list(result.ids()),
        "error": errors,
        "resubmitted": [resubmitted.get(row, 0) for row in range(size)],
    }


def outcomes_to_pandas(result: LoadResult) -> pd.DataFrame:
    """A load's outcomes as a DataFrame, one row per input row, in input order."""
    pandas = require("pandas")
    columns = _outcome_columns(result)
    frame = pandas.DataFrame(
        {
            "row": pandas.array(columns["row"], dtype="Int64"),
            "success": pandas.array(columns["success"], dtype="bool"),
            "created": pandas.array(columns["created"], dtype="bool"),
            "id": pandas.array(columns["id"], dtype="string"),
            "error": pandas.array(columns["error"], dtype="string"),
            "resubmitted": pandas.array(columns["resubmitted"], dtype="int64"),
        }
    )
    return frame


def outcomes_to_arrow(result: LoadResult) -> pa.Table:
    """A load's outcomes as an Arrow table, one row per input row, in input order."""
    pyarrow = require("pyarrow")
    columns = _outcome_columns(result)
    schema = pyarrow.schema(
        [
            ("row", pyarrow.int64()),
            ("success", pyarrow.bool_()),
            ("created", pyarrow.bool_()),
            ("id", pyarrow.string()),
            ("error", pyarrow.string()),
            ("resubmitted", pyarrow.int32()),
        ]
    )
    return pyarrow.table(columns, schema=schema)


def _plain(record: Mapping[str, object] | BaseModel) -> Mapping[str, object]:
    if isinstance(record, BaseModel):
        return record.model_dump(by_alias=True)
    return {k: (None if v == "" else v) for k, v in record.items()}


class PandasBuilder:
    """Collects records column by column into a DataFrame (``add``, then ``finish``).

    The ``pandas`` extra is checked when the builder is made, before any
    record is asked for.
    """

    def __init__(self) -> None:
        self._pandas = require("pandas")
        self._columns: dict[str, list[object]] | None = None

    def add(self, record: Mapping[str, object] | BaseModel) -> None:
        """Add one record (a dict of the wire's text, or a validated model)."""
        values = _plain(record)
        if self._columns is None:
            self._columns = {name: [] for name in values}
        for name, column in self._columns.items():
            column.append(values.get(name))

    def finish(self) -> pd.DataFrame:
        """The DataFrame of every record added, in order."""
        return self._pandas.DataFrame(self._columns or {})


class ArrowBuilder:
    """Collects records into an Arrow table, :data:`CHUNK` rows per record batch.

    The ``arrow`` extra is checked when the builder is made.
    """

    def __init__(self) -> None:
        self._pyarrow = require("pyarrow")
        self._batches: list[pa.RecordBatch] = []
        self._chunk: list[Mapping[str, object]] = []
        self._names: list[str] = []

    def add(self, record: Mapping[str, object] | BaseModel) -> None:
        """Add one record (a dict of the wire's text, or a validated model)."""
        values = _plain(record)
        if not self._names:
            self._names = list(values)
        self._chunk.append(values)
        if len(self._chunk) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._chunk:
            self._batches.append(self._pyarrow.RecordBatch.from_pylist(self._chunk))
            self._chunk = []

    def finish(self) -> pa.Table:
        """The table of every record added, in order."""
        self._flush()
        if not self._batches:
            return self._pyarrow.table({name: [] for name in self._names})
        return self._pyarrow.Table.from_batches(self._batches)


def records_to_pandas(records: Iterable[Mapping[str, object] | BaseModel]) -> pd.DataFrame:
    """Query records (dicts of text, or validated models) as a DataFrame, one column
    per field, in the order the records came."""
    builder = PandasBuilder()
    for record in records:
        builder.add(record)
    return builder.finish()


def records_to_arrow(records: Iterable[Mapping[str, object] | BaseModel]) -> pa.Table:
    """Query records as an Arrow table, assembled from batches of :data:`CHUNK` rows."""
    builder = ArrowBuilder()
    for record in records:
        builder.add(record)
    return builder.finish()

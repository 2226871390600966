"""Bulk API 2.0 ingest results as typed records, joined back to the input rows (spec §9).

``successfulResults`` rows carry ``sf__Id`` and ``sf__Created``, ``failedResults``
rows ``sf__Id`` and ``sf__Error``, ``unprocessedrecords`` rows only the uploaded
columns; each echoes **only the uploaded columns, as uploaded**, and **in no
guaranteed order**. So an outcome can be tied to its input row only through a
column that identifies the row:

* update, delete, hardDelete: the uploaded ``Id``;
* upsert: the external id column;
* insert: nothing reliable (echoed values may be re-rendered, e.g. numbers as
  ``9.12260031E8``), so an insert outcome has ``row=None``. Bulk API 1.0
  returns one result per row in upload order: use it when insert outcomes must
  be tied to input rows.

When several input rows share a key, the outcome goes to the one whose every
uploaded value equals the echoed values; rows that are identical in every
uploaded column are interchangeable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import InvalidInputError
from ..models.bulk2 import Bulk2Operation
from ..models.results import RecordError

__all__ = ["IngestResult", "ResultKind", "RowIndex", "join_column", "parse_result"]

ResultKind = str  # "successful" | "failed" | "unprocessed"

_KEYED = {
    Bulk2Operation.UPDATE: "Id",
    Bulk2Operation.DELETE: "Id",
    Bulk2Operation.HARD_DELETE: "Id",
}


def join_column(
    operation: Bulk2Operation | str, external_id_field: str | None = None
) -> str | None:
    """The uploaded column that ties an outcome to its input row, or ``None`` for insert."""
    op = Bulk2Operation(operation)
    if op is Bulk2Operation.UPSERT:
        if not external_id_field:
            raise InvalidInputError("upsert results are joined by the external id field: name it")
        return external_id_field
    return _KEYED.get(op)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """One record of an ingest job's results.

    ``kind`` is ``successful``, ``failed`` or ``unprocessed``; ``id`` the
    record id (``sf__Id``; empty for a failed insert); ``created`` whether a
    success created the record (``sf__Created``); ``error`` why a failure
    failed (``sf__Error``); ``values`` the uploaded columns as echoed; ``row``
    the 1-based input row when the operation allows joining (see the module
    docstring), else ``None``.
    """

    kind: ResultKind
    id: str | None
    created: bool | None
    error: RecordError | None
    values: dict[str, str]
    row: int | None = None

    @property
    def success(self) -> bool:
        """True for a ``successful`` result."""
        return self.kind == "successful"


def parse_result(kind: ResultKind, record: Mapping[str, object]) -> IngestResult:
    """An :class:`IngestResult` from one decoded result CSV row."""
    values: dict[str, str] = {}
    sf_id = created = error = None
    for name, value in record.items():
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        if name == "sf__Id":
            sf_id = text or None
        elif name == "sf__Created":
            created = text.lower() == "true"
        elif name == "sf__Error":
            error = RecordError.from_csv_text(text) if text else None
        else:
            values[name] = text
    return IngestResult(kind, sf_id, created, error, values)


@dataclass
class RowIndex:
    """Input rows by the value of their join column, to tie results back to them.

    Build it from the CSV that was uploaded (:meth:`add_csv`, for each job's
    data); :meth:`join` gives a result its row.
    """

    column: str
    delimiter: str = ","
    _rows: dict[str, object] = field(default_factory=dict)
    _count: int = 0

    def add_csv(self, data: bytes | str, *, first_row: int | None = None) -> None:
        """Index one uploaded CSV (header first); rows are numbered on from the last."""
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        header = next(reader, None)
        if header is None:
            return
        try:
            at = header.index(self.column)
        except ValueError:
            raise InvalidInputError(
                f"the uploaded CSV has no {self.column!r} column to join results by"
            ) from None
        row = self._count if first_row is None else first_row - 1
        rows = self._rows
        for values in reader:
            if not values:
                continue
            row += 1
            key = values[at] if at < len(values) else ""
            found = rows.get(key)
            if found is None:
                rows[key] = row
            elif isinstance(found, list):
                found.append((row, dict(zip(header, values, strict=False))))
            else:
                rows[key] = [(found, None), (row, dict(zip(header, values, strict=False)))]
        self._count = max(self._count, row)

    def join(self, result: IngestResult) -> IngestResult:
        """``result`` with its input row (unchanged when no row has its key)."""
        key = result.values.get(self.column)
        found = self._rows.get(key) if key is not None else None
        if found is None:
            return result
        row = found if isinstance(found, int) else _pick(found, result.values)  # type: ignore[arg-type]
        if row is None:
            return result
        return IngestResult(
            result.kind, result.id, result.created, result.error, result.values, row
        )

    def join_all(self, results: Iterable[IngestResult]) -> Iterable[IngestResult]:
        """Every result with its row."""
        return (self.join(result) for result in results)


_Candidate = tuple[int, "dict[str, str] | None"]


def _pick(candidates: list[_Candidate], echoed: dict[str, str]) -> int | None:
    """The row among those sharing a key whose uploaded values the result echoes.

    Only the first row of a key is kept without its values (memory); it takes
    an outcome that no later row matches exactly.
    """
    for index, (row, values) in enumerate(candidates):
        if values is not None and all(values.get(k) == v for k, v in echoed.items()):
            candidates.pop(index)
            return row
    for index, (row, values) in enumerate(candidates):
        if values is None:
            candidates.pop(index)
            return row
    return None

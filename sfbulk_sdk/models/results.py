"""Per-record batch results and query result lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator
from typing_extensions import Self

from .base import ListDocument, WireList, WireModel

__all__ = ["BatchResult", "QueryResultList", "RecordError", "RecordResult"]

RESULT_CSV_HEADER = ("Id", "Success", "Created", "Error")


class RecordError(WireModel):
    """One error of one record: a SOAP ``StatusCode``, a message and the fields involved."""

    xml_root = "errors"

    fields: WireList[str] = Field(default_factory=list)
    message: str = ""
    status_code: str = ""

    @classmethod
    def from_csv_text(cls, text: str) -> RecordError:
        """Parse the CSV ``Error`` column: ``CODE:message:field1,field2 --``."""
        text = text.strip()
        if text.endswith("--"):
            text = text[:-2].rstrip()
        code, _, rest = text.partition(":")
        message, sep, fields = rest.rpartition(":")
        if not sep:
            message, fields = rest, ""
        names = [f.strip() for f in fields.split(",") if f.strip()]
        return cls(status_code=code.strip(), message=message.strip(), fields=names)

    def to_csv_text(self) -> str:
        """Render as the CSV ``Error`` column does."""
        return f"{self.status_code}:{self.message}:{','.join(self.fields)} --"


class RecordResult(WireModel):
    """The outcome of one input record, in upload order."""

    xml_root = "result"

    errors: WireList[RecordError] = Field(default_factory=list)
    id: str | None = None
    success: bool = False
    created: bool = False

    _row: int | None = PrivateAttr(default=None)

    @property
    def row(self) -> int | None:
        """This record's 1-based position in its batch's upload (``None`` if unknown).

        Salesforce returns one result per uploaded record, in upload order, so
        a failed record (which has no id) is tied back to its input row by this
        number; it survives filtering such as ``batch_result(only_invalid=True)``.
        """
        return self._row

    @field_validator("id", mode="before")
    @classmethod
    def _empty_id(cls, value: Any) -> Any:
        return value or None

    @property
    def error(self) -> str:
        """All errors as one line, as the CSV ``Error`` column shows them (empty if none)."""
        return "; ".join(e.to_csv_text() for e in self.errors)


class BatchResult(ListDocument[RecordResult]):
    """The per-record results of one ingest batch (``results``), in upload order."""

    xml_root = "results"
    items_field = json_array_field = "result"

    result: WireList[RecordResult] = Field(default_factory=list)

    @classmethod
    def from_csv(cls, data: str | bytes | Iterable[str]) -> Self:
        """Parse the CSV form (header ``"Id","Success","Created","Error"``)."""
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        lines: Iterable[str] = io.StringIO(data) if isinstance(data, str) else data
        return cls(result=list(iter_csv_results(lines)))

    @model_validator(mode="after")
    def _number_rows(self) -> BatchResult:
        for position, record in enumerate(self.result, 1):
            if record._row is None:
                record._row = position
        return self

    @property
    def records(self) -> list[RecordResult]:
        """The per-record results."""
        return self.result

    @property
    def failed(self) -> list[RecordResult]:
        """Only the records that failed."""
        return [r for r in self.result if not r.success]


def iter_csv_results(lines: Iterable[str]) -> Iterator[RecordResult]:
    """Stream :class:`RecordResult` objects from the lines of a CSV result file.

    Anything that is not a well-formed result file (a missing column, a row
    shorter than the header, text the CSV parser refuses) raises ``ValueError``.
    """
    reader = csv.reader(lines)
    try:
        yield from _csv_results(reader)
    except csv.Error as exc:
        raise ValueError(f"CSV result line {reader.line_num} is malformed: {exc}") from None


def _csv_results(reader: Iterator[list[str]]) -> Iterator[RecordResult]:
    header = next(reader, None)
    if header is None:
        return
    index = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [h for h in RESULT_CSV_HEADER if h.lower() not in index]
    if missing:
        raise ValueError(f"CSV result header lacks columns {missing}: {header!r}")
    i_id, i_ok, i_new, i_err = (index[h.lower()] for h in RESULT_CSV_HEADER)
    width = max(i_id, i_ok, i_new, i_err) + 1
    position = 0
    for row in reader:
        if not row:
            continue
        position += 1
        if len(row) < width:
            raise ValueError(
                f"CSV result row {position} has {len(row)} values; the header has {len(header)}"
            )
        error_text = row[i_err]
        result = RecordResult(
            id=row[i_id] or None,
            success=row[i_ok].lower() == "true",
            created=row[i_new].lower() == "true",
            errors=[RecordError.from_csv_text(error_text)] if error_text else [],
        )
        result._row = position
        yield result


class QueryResultList(ListDocument[str]):
    """The result-set ids of a query batch (``result-list``; JSON: an array of ids)."""

    xml_root = "result-list"
    items_field = json_array_field = "result"

    result: WireList[str] = Field(default_factory=list)

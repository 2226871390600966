"""Per-record batch results and query result lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator
from typing_extensions import Self

from .._redact import body_excerpt
from ..errors import InvalidInputError, MalformedReplyError
from .base import ListDocument, WireList, WireModel, WireText

__all__ = ["BatchResult", "QueryResultList", "RecordError", "RecordResult"]

RESULT_CSV_HEADER = ("Id", "Success", "Created", "Error")
_FLAGS = frozenset({"true", "false"})


class RecordError(WireModel):
    """One error of one record: a SOAP ``StatusCode``, a message and the fields involved."""

    xml_root = "errors"

    fields: WireList[str] = Field(default_factory=list)
    message: WireText = ""
    status_code: WireText = ""

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
    #: A result without its outcome is not a result (it would read as a failure).
    wire_required = ("success",)

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

    @classmethod
    def _checked(
        cls, id: str | None, success: bool, created: bool, errors: list[RecordError], row: int
    ) -> RecordResult:
        """A result from values the caller has already checked, without validating again.

        One result per uploaded record makes this the hot path of reading batch
        results; it builds the same instance as ``RecordResult(...)`` (a test
        compares the two) at a quarter of the cost. The results share one
        fields set and one empty extras dict (280 bytes a result) until one of
        them is changed: see :meth:`_own`.
        """
        result = _new(cls)
        values = {"errors": errors, "id": id, "success": success, "created": created}
        _set(result, "__dict__", values)
        _set(result, "__pydantic_fields_set__", _SHARED_FIELDS)
        _set(result, "__pydantic_extra__", _SHARED_EXTRA)
        _set(result, "__pydantic_private__", {"_row": row})
        return result

    def _own(self) -> None:
        """Give this result its own fields set and extras before anything changes them.

        Pydantic changes both in place (setting or deleting an attribute, and
        whatever a caller does with ``model_fields_set`` / ``model_extra``);
        a shared one is marked by its type, which survives pickling and copies.
        """
        if type(self.__pydantic_fields_set__) is _SharedFields:
            _set(self, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        if type(self.__pydantic_extra__) is _SharedExtra:
            _set(self, "__pydantic_extra__", dict(self.__pydantic_extra__))

    def __setattr__(self, name: str, value: object) -> None:
        self._own()
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        self._own()
        super().__delattr__(name)

    @property
    def model_fields_set(self) -> set[str]:
        """The names set on this result (its own set, safe to change)."""
        self._own()
        return self.__pydantic_fields_set__

    @property
    def model_extra(self) -> dict[str, object] | None:
        """Attributes beyond the declared fields (its own dict, safe to change)."""
        self._own()
        return self.__pydantic_extra__

    @property
    def error(self) -> str:
        """All errors as one line, as the CSV ``Error`` column shows them (empty if none)."""
        return "; ".join(e.to_csv_text() for e in self.errors)


_new = object.__new__
_set = object.__setattr__


class _SharedFields(set[str]):
    """The fields set that checked results share until one is changed."""


class _SharedExtra(dict[str, Any]):
    """The empty extras that checked results share until one is changed."""


_SHARED_FIELDS = _SharedFields(RecordResult.model_fields)
_SHARED_EXTRA = _SharedExtra()


class BatchResult(ListDocument[RecordResult]):
    """The per-record results of one ingest batch (``results``), in upload order."""

    xml_root = "results"
    items_field = json_array_field = "result"

    result: WireList[RecordResult] = Field(default_factory=list)

    @classmethod
    def from_csv(cls, data: str | bytes | Iterable[str]) -> Self:
        """Parse the CSV form (header ``"Id","Success","Created","Error"``).

        Anything else (not UTF-8, malformed CSV, a missing column, a short row)
        raises :class:`~sfbulk_sdk.errors.MalformedReplyError`.
        """
        excerpt = body_excerpt(data) if isinstance(data, (str, bytes)) else None
        if isinstance(data, (bytes, bytearray)):
            try:
                data = bytes(data).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise MalformedReplyError(
                    f"the CSV batch result is not UTF-8 (byte {exc.start:,})", excerpt=excerpt
                ) from None
        if isinstance(data, str):
            lines: Iterable[str] = io.StringIO(data.removeprefix("\ufeff"), newline="")
        elif isinstance(data, Iterable):
            lines = data
        else:
            raise InvalidInputError(f"CSV must be str, bytes or lines, not {type(data).__name__}")
        try:
            return cls(result=list(iter_csv_results(lines)))
        except MalformedReplyError as exc:
            exc.excerpt = exc.excerpt or excerpt
            raise

    @model_validator(mode="after")
    def _number_rows(self) -> BatchResult:
        for position, record in enumerate(self.result, 1):
            private = record.__pydantic_private__
            if private is None:
                record._row = position
            elif private.get("_row") is None:
                private["_row"] = position
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
    shorter than the header, a value that is not ``true`` or ``false``, text
    the CSV parser refuses) raises :class:`~sfbulk_sdk.errors.MalformedReplyError`
    (a ``ValueError``).
    """
    reader = csv.reader(lines, strict=True)
    try:
        yield from _csv_results(reader)
    except csv.Error as exc:
        raise MalformedReplyError(
            f"CSV result line {reader.line_num} is malformed: {exc}"
        ) from None
    except TypeError:  # lines that are not str
        raise InvalidInputError("CSV result lines must be str") from None


def _csv_results(reader: Iterator[list[str]]) -> Iterator[RecordResult]:
    header = next(reader, None)
    if header is None:
        return
    index = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [h for h in RESULT_CSV_HEADER if h.lower() not in index]
    if missing:
        shown = [name[:40] for name in header[:8]]
        raise MalformedReplyError(f"CSV result header lacks columns {missing}: {shown!r}")
    i_id, i_ok, i_new, i_err = (index[h.lower()] for h in RESULT_CSV_HEADER)
    width = max(i_id, i_ok, i_new, i_err) + 1
    position = 0
    for row in reader:
        if not row:
            continue
        position += 1
        if len(row) < width:
            raise MalformedReplyError(
                f"CSV result row {position} has {len(row)} values; the header has {len(header)}"
            )
        ok, new = row[i_ok].lower(), row[i_new].lower()
        if ok not in _FLAGS or new not in _FLAGS:
            raise MalformedReplyError(
                f"CSV result row {position}: Success and Created must be true or false"
            )
        error_text = row[i_err]
        yield RecordResult._checked(
            row[i_id] or None,
            ok == "true",
            new == "true",
            [RecordError.from_csv_text(error_text)] if error_text else [],
            position,
        )


class QueryResultList(ListDocument[str]):
    """The result-set ids of a query batch (``result-list``; JSON: an array of ids)."""

    xml_root = "result-list"
    items_field = json_array_field = "result"

    result: WireList[str] = Field(default_factory=list)

    @field_validator("result")
    @classmethod
    def _result_ids(cls, ids: list[str]) -> list[str]:
        for value in ids:
            if not value.isalnum() or len(value) not in (15, 18):
                raise ValueError("a result id is a 15- or 18-character Salesforce id")
        return ids
